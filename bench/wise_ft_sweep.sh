#!/usr/bin/env bash
# The WiSE-FT trade-off curve of a finished training run, on validation data only: for each α the run is
# exported again (`reid train --export --wise-ft α`) and scored on the recipe's own validation fold (Market-1501
# identities it did not train on) and on CUHK03 train/ (cameras it never saw; never val/, which is only scored
# once on the final export). Writes sweep.csv and appends the run's curve to the folder's trade-off plot
# (tradeoff.svg: one line per run, Market validation mAP against CUHK03 train/ mAP, points labelled with α).
#   bench/wise_ft_sweep.sh RECIPE RUN_DIR OUT_DIR [bn_refresh_images=0] [alphas...]
#   bench/wise_ft_sweep.sh configs/reid_default.yaml runs/reid_default sweeps 0 1 0.8 0.6 0.4 0.2 0
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
recipe=$1; run=$2; out=$3; refresh=${4:-0}
shift $(( $# >= 4 ? 4 : $# ))
alphas=("$@"); [[ ${#alphas[@]} -gt 0 ]] || alphas=(1 0.8 0.6 0.4 0.2 0)
reid=${REID_DLL:-$root/src/Reid.Cli/bin/Release/net10.0/reid.dll}
shared=${REID_SHARED:-$root/../shared}
cuhk_train="$shared/data/cuhk03/detected/train"
[[ -d "$cuhk_train" ]] || { echo "CUHK03 train/ not found at $cuhk_train" >&2; exit 1; }
name=$(basename "$run")
mkdir -p "$out"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs); load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for a in "${alphas[@]}"; do
  tag="$name-a$a-bn$refresh"
  echo "alpha $a: export, Market validation fold, CUHK03 train/" >&2
  dotnet "$reid" train --config "$recipe" --out "$run" --export "$out/$tag.onnx" --wise-ft "$a" --bn-refresh "$refresh" >/dev/null
  dotnet "$reid" evaluate --model "$out/$tag.onnx" --validation-of "$recipe" --json "$out/$tag.val.json" >/dev/null
  dotnet "$reid" evaluate --model "$out/$tag.onnx" --dataset cuhk03 --root "$cuhk_train" --json "$out/$tag.cuhk-train.json" >/dev/null
done
python3 - "$out" "$name" "$refresh" "${alphas[@]}" <<'PY'
import glob, html, json, os, sys
out, name, refresh, alphas = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows = []
for a in alphas:
    tag = f"{name}-a{a}-bn{refresh}"
    v = json.load(open(f"{out}/{tag}.val.json")); c = json.load(open(f"{out}/{tag}.cuhk-train.json"))
    rows.append(dict(run=name, alpha=float(a), bn_refresh=int(refresh), val_rank1=v["rank1"], val_map=v["map"],
                     cuhk_train_rank1=c["rank1"], cuhk_train_map=c["map"]))
path = f"{out}/sweep.csv"
new = not os.path.exists(path)
with open(path, "a") as f:
    if new: f.write(",".join(rows[0].keys()) + "\n")
    for r in rows: f.write(",".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in r.values()) + "\n")
print(f"{'run':<24} {'alpha':>5} {'bn':>4} {'val R1':>7} {'val mAP':>7} {'CUHK R1':>7} {'CUHK mAP':>8}")
for r in rows:
    print(f"{r['run']:<24} {r['alpha']:>5.2f} {r['bn_refresh']:>4} {r['val_rank1']:>7.3f} {r['val_map']:>7.3f} {r['cuhk_train_rank1']:>7.3f} {r['cuhk_train_map']:>8.3f}")
# the plot: every curve in sweep.csv
lines = [l.strip().split(",") for l in open(path)][1:]
curves = {}
for l in lines: curves.setdefault(f"{l[0]} (bn refresh {l[2]})", []).append((float(l[1]), float(l[6]), float(l[4])))
xs = [p[1] for c in curves.values() for p in c]; ys = [p[2] for c in curves.values() for p in c]
x0, x1, y0, y1 = min(xs) - 0.02, max(xs) + 0.02, min(ys) - 0.02, max(ys) + 0.02
W, H, M = 640, 440, 60
X = lambda x: M + (x - x0) / (x1 - x0) * (W - 2 * M); Y = lambda y: H - M - (y - y0) / (y1 - y0) * (H - 2 * M)
colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">WiSE-FT trade-off on validation data (labels: alpha)</text>',
       f'<line x1="{M}" y1="{H-M}" x2="{W-M}" y2="{H-M}" stroke="black"/><line x1="{M}" y1="{M}" x2="{M}" y2="{H-M}" stroke="black"/>',
       f'<text x="{W/2}" y="{H-20}" text-anchor="middle">CUHK03 train/ mAP (cameras never trained on)</text>',
       f'<text x="18" y="{H/2}" text-anchor="middle" transform="rotate(-90 18 {H/2})">Market-1501 validation-fold mAP</text>']
for i in range(5):
    gx = x0 + (x1 - x0) * i / 4; gy = y0 + (y1 - y0) * i / 4
    svg.append(f'<text x="{X(gx)}" y="{H-M+16}" text-anchor="middle">{gx:.2f}</text><text x="{M-6}" y="{Y(gy)+4}" text-anchor="end">{gy:.2f}</text>')
for k, (label, pts) in enumerate(curves.items()):
    col = colours[k % len(colours)]; pts = sorted(pts)
    svg.append(f'<polyline fill="none" stroke="{col}" stroke-width="2" points="{" ".join(f"{X(p[1]):.1f},{Y(p[2]):.1f}" for p in pts)}"/>')
    for a, x, y in pts:
        svg.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3.5" fill="{col}"/><text x="{X(x)+5:.1f}" y="{Y(y)-5:.1f}" fill="{col}">{a:g}</text>')
    svg.append(f'<text x="{W-M-180}" y="{M+16*k}" fill="{col}">{html.escape(label)}</text>')
svg.append("</svg>")
open(f"{out}/tradeoff.svg", "w").write("\n".join(svg))
print(f"wrote {path} and {out}/tradeoff.svg")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
