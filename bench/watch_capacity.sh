#!/usr/bin/env bash
# Capacity of one machine for `reid watch` (issue #22 "Figures"): N live streams of the shared video (768x432, 10 fps,
# H.264) served on loopback by ffmpeg at their own rate (-re, looping, stream copy: serving costs next to nothing),
# watched by one `reid watch` with yolox_nano and the default model for SECONDS; then summarised by watch_capacity.py
# (processed fps, dropped frames, frame lag p50/p95 and its trend, event latency p50/p95).
# Usage: bench/watch_capacity.sh N SECONDS OUT_DIR   (run from the repository root, after scripts/setup.sh; machine idle)
# REID_WATCH_ARGS adds options to `reid watch` (e.g. "--config my-video.yaml").
set -euo pipefail
n=${1:?streams}; seconds=${2:?seconds}; out=${3:?output directory}
. "$(dirname "$0")/watch_lib.sh"
rm -rf "$out"; mkdir -p "$out"
pids=(); cams=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for i in $(seq 1 "$n"); do
  port=$((19300 + i))
  ffmpeg -nostdin -v error -re -stream_loop -1 -i "$video" -c copy -f mpegts "tcp://127.0.0.1:$port?listen=1" 2>"$out/ffmpeg$i.log" &
  pids+=($!); cams+=(--camera "cam$i=tcp://127.0.0.1:$port")
done
sleep 1
machine_info "$out/machine.txt"
start=$(date +%s)
dotnet "$reid" watch "${cams[@]}" --data "$out/gallery" --detector "$detector" --duration "$seconds" \
  --interim 5 --status-every 10 --json ${REID_WATCH_ARGS:-} > "$out/watch.jsonl" 2> "$out/watch.err"
echo "wall $(( $(date +%s) - start )) s" >> "$out/machine.txt"
python3 "$(dirname "$0")/watch_capacity.py" "$out/watch.jsonl" | tee "$out/summary.txt"
