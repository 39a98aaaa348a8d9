#!/usr/bin/env bash
# Embedding throughput of this tree's `reid` against another checkout's (e.g. the old C-API ORT binding), turn
# and turn about: old, new, old, new … so load from other processes hits both alike. Each turn is one
# `reid bench embed` process (its own medians over --rounds); the summary takes the median of the turns.
#
#   bench/embed_side_by_side.sh OLD_TREE [TURNS=5] [COUNT=256] [ROUNDS=3] [OUTDIR]
#   bench/embed_side_by_side.sh --summarise OUTDIR      # the table again, from a finished run's JSON
#
# Both trees must be built (scripts/setup.sh in each). Prints the CPU, the load average before and after, the
# ORT version and commit of each side, and for batch 1 and 32 the medians of decode+preprocess+inference and of
# inference alone, with new ÷ old: the median of the turns' medians, and the median of every round pooled
# (steadier when single turns swing, as they do on a shared 2-core VM).
set -euo pipefail
new_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ $# -ge 1 ]] || { echo "usage: $0 OLD_TREE [TURNS=5] [COUNT=256] [ROUNDS=3] [OUTDIR] | $0 --summarise OUTDIR" >&2; exit 2; }

summarise() {   # OUTDIR: reads old-N.json / new-N.json
python3 - "$1" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
turns = len(glob.glob(os.path.join(out, "old-*.json")))
runs = {s: [json.load(open(f"{out}/{s}-{i}.json")) for i in range(1, turns + 1)] for s in ("old", "new")}
print(f"ORT            : old {runs['old'][0]['ort_version']}, new {runs['new'][0]['ort_version']}")
loads = {s: ", ".join("%.2f" % r["load_average_before"] for r in runs[s]) for s in runs}
print(f"load average   : old turns {loads['old']}; new turns {loads['new']} (at each turn's start; a turn's own 2 threads add ~2)")
print()
print("| batch | figure | old img/s | new img/s | new ÷ old | pooled rounds: old / new / ratio | old turns | new turns |")
print("| ---: | --- | ---: | ---: | ---: | --- | --- | --- |")
for batch in sorted({b["batch"] for b in runs["old"][0]["results"]}):
    for key, label in (("pipeline", "decode+preprocess+inference"), ("inference", "inference alone")):
        pick = lambda r: next(b for b in r["results"] if b["batch"] == batch)
        per = {s: [pick(r)[f"{key}_images_per_s"] for r in runs[s]] for s in runs}
        pooled = {s: statistics.median(x for r in runs[s] for x in pick(r)[f"{key}_rounds"]) for s in runs}
        o, n = statistics.median(per["old"]), statistics.median(per["new"])
        print(f"| {batch} | {label} | {o:.1f} | {n:.1f} | {n / o:.3f} | "
              f"{pooled['old']:.0f} / {pooled['new']:.0f} / {pooled['new'] / pooled['old']:.3f} | "
              f"{' '.join(f'{v:.0f}' for v in per['old'])} | {' '.join(f'{v:.0f}' for v in per['new'])} |")
PY
}
if [[ $1 == --summarise ]]; then summarise "${2:?OUTDIR}"; exit 0; fi
old_root="$(cd "$1" && pwd)"
turns="${2:-5}"; count="${3:-256}"; rounds="${4:-3}"
out="${5:-$new_root/out/embed-side-by-side-$(date -u +%Y%m%dT%H%M%SZ)}"
model="$(cd "$new_root/../shared/models" && pwd)/osnet_x0_25_msmt17.onnx"
[[ -f "$model" ]] || { echo "$model not found (../shared is needed)" >&2; exit 1; }
for r in "$old_root" "$new_root"; do
  [[ -f "$r/src/Reid.Cli/bin/Release/net10.0/reid.dll" ]] || { echo "$r is not built: run scripts/setup.sh there" >&2; exit 1; }
done
mkdir -p "$out"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
{
  echo "date (UTC)     : $(date -u '+%Y-%m-%d %H:%M')"
  echo "cpu            : $cpu ($(nproc) logical cores)"
  echo "uptime before  : $(uptime)"
  echo "old            : $old_root @ $(git -C "$old_root" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "new            : $new_root @ $(git -C "$new_root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$new_root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "command (each) : reid bench embed --model $model --batch 1,32 --threads 2 --count $count --rounds $rounds --json …"
  echo "turns          : $turns per side, alternating old, new"
} | tee "$out/summary.txt"

for ((i = 1; i <= turns; i++)); do
  for side in old new; do
    root="$old_root"; [[ $side == new ]] && root="$new_root"
    printf '[turn %d/%d] %s\n' "$i" "$turns" "$side" >&2
    (cd "$root" && NO_COLOR=1 dotnet src/Reid.Cli/bin/Release/net10.0/reid.dll bench embed --model "$model" --batch 1,32 \
      --threads 2 --count "$count" --rounds "$rounds" --json "$out/$side-$i.json" > "$out/$side-$i.log" 2>&1) \
      || { echo "$side turn $i failed; see $out/$side-$i.log" >&2; exit 1; }
  done
done
echo "uptime after   : $(uptime)" | tee -a "$out/summary.txt"

summarise "$out" | tee -a "$out/summary.txt"
echo "per-turn JSON and logs: $out" >&2
