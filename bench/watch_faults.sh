#!/usr/bin/env bash
# A camera that dies and comes back (issue #22 "Figures", faults): two live loopback streams of the shared video through
# one `reid watch` for SECONDS; cam2's server is killed at DOWN_AT s and restarted at UP_AT s. Reported by
# watch_faults.py: cam2's states over time and how long after its restart it was live again (status every 2 s), whether
# cam1 kept its rate meanwhile, and whether every acknowledged event's identity is in the gallery with its sightings.
# Usage: bench/watch_faults.sh OUT_DIR [SECONDS=120] [DOWN_AT=30] [UP_AT=50]
set -euo pipefail
out=${1:?output directory}; seconds=${2:-120}; down=${3:-30}; up=${4:-50}
. "$(dirname "$0")/watch_lib.sh"
rm -rf "$out"; mkdir -p "$out"
serve() { ffmpeg -nostdin -v error -re -stream_loop -1 -i "$video" -c copy -f mpegts "tcp://127.0.0.1:$1?listen=1" >/dev/null 2>>"$out/ffmpeg$1.log" & echo $!; }
p1=$(serve 19401); p2=$(serve 19402)
trap 'kill $p1 $p2 2>/dev/null || true' EXIT
sleep 1
dotnet "$reid" watch --camera cam1=tcp://127.0.0.1:19401 --camera cam2=tcp://127.0.0.1:19402 --data "$out/gallery" \
  --detector "$detector" --duration "$seconds" --interim 5 --status-every 2 --json > "$out/watch.jsonl" 2> "$out/watch.err" &
w=$!
sleep "$down"; kill "$p2"
sleep $((up - down)); p2=$(serve 19402)
wait $w
python3 "$(dirname "$0")/watch_faults.py" "$out/watch.jsonl" "$out/gallery/gallery.db" "$down" "$up" | tee "$out/summary.txt"
