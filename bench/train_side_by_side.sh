#!/usr/bin/env bash
# Trains the same model and batch with this engine (`reid bench train`) and with Debian's PyTorch
# (bench/pytorch/train_bench.py), taking turns A, B, A, B … so both see the same machine state, then prints
# the median of each side's images/s and the ratio, the achieved GFLOP/s of both (the arithmetic per image is
# reid's count on its own export; both train the same architecture) as a fraction of the FMA peak reid measured
# in the same run, and the CPU. Needs `scripts/setup.sh --bench` (python3-torch).
#   bench/train_side_by_side.sh resnet50 64 bf16 [rounds=3] [steps=3] [outdir]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
backbone=${1:-resnet50}; batch=${2:-64}; precision=${3:-f32}; rounds=${4:-3}; steps=${5:-3}
out=${6:-$(mktemp -d)}
mkdir -p "$out"
reid_dll="$root/src/Reid.Cli/bin/Release/net10.0/reid.dll"
[[ -f "$reid_dll" ]] || dotnet build "$root/src/Reid.Cli" -c Release -nologo -v quiet -clp:ErrorsOnly
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "python3-torch is missing: run scripts/setup.sh --bench" >&2; exit 1; }
echo "load before: $(cat /proc/loadavg)" >&2
for ((r = 1; r <= rounds; r++)); do
  echo "round $r/$rounds: reid" >&2
  dotnet "$reid_dll" bench train --backbone "$backbone" --batch "$batch" --precision "$precision" --steps "$steps" \
    --json "$out/reid-$r.json" >/dev/null
  echo "round $r/$rounds: pytorch" >&2
  /usr/bin/python3 "$root/bench/pytorch/train_bench.py" --backbone "$backbone" --batch "$batch" --precision "$precision" \
    --steps "$steps" --json "$out/torch-$r.json" >/dev/null
done
echo "load after: $(cat /proc/loadavg)" >&2
/usr/bin/python3 - "$out" "$rounds" "$backbone" "$batch" "$precision" <<'PY'
import json, statistics, sys
out, rounds, backbone, batch, precision = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ours = [json.load(open(f"{out}/reid-{r}.json")) for r in range(1, rounds + 1)]
theirs = [json.load(open(f"{out}/torch-{r}.json")) for r in range(1, rounds + 1)]
med = lambda xs, k: statistics.median(x[k] for x in xs)
result = {
    "backbone": backbone, "batch": int(batch), "precision": precision, "rounds": rounds,
    "reid_images_per_s": med(ours, "images_per_s"), "pytorch_images_per_s": med(theirs, "images_per_s"),
    "reid_onednn_fraction": med(ours, "onednn_fraction"),
    "reid_peak_rss_mb": max(x["peak_rss_mb"] for x in ours), "pytorch_peak_rss_mb": max(x["peak_rss_mb"] for x in theirs),
}
result["reid_over_pytorch"] = result["reid_images_per_s"] / result["pytorch_images_per_s"]
gflop = ours[0]["train_gflop_per_image"]
peak = med(ours, "fma_peak_gflops")
result.update({
    "cpu": ours[0]["cpu"]["summary"], "train_gflop_per_image": gflop, "fma_peak_gflops": peak,
    "fma_peak_threads": ours[0]["fma_peak_threads"],
    "reid_gflops": result["reid_images_per_s"] * gflop, "pytorch_gflops": result["pytorch_images_per_s"] * gflop,
})
result["reid_fraction_of_peak"] = result["reid_gflops"] / peak
result["pytorch_fraction_of_peak"] = result["pytorch_gflops"] / peak
result["reid_runs"] = [x["images_per_s"] for x in ours]
result["pytorch_runs"] = [x["images_per_s"] for x in theirs]
json.dump(result, open(f"{out}/side_by_side.json", "w"), indent=2)
print(json.dumps(result, indent=2))
PY
