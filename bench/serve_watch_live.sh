#!/usr/bin/env bash
# The issue #22 "done when" run: `reid serve --watch` follows N live loopback streams of the shared video (768x432, 10 fps,
# served by ffmpeg at their own rate) for SECONDS while the web UI's Live tab stays open in headless chromium
# (bench/live_tab.mjs: screenshots, tiles, feed, JavaScript errors) and an SSE client reads /api/events with the admin key.
# The SSE stream carries every camera status (each second) and every event in the same JSON as `reid watch --json`, so
# watch_capacity.py summarises it: fps, dropped frames, frame lag, event latency.
# Usage: bench/serve_watch_live.sh N SECONDS OUT_DIR   (run from the repository root, after scripts/setup.sh; machine idle)
set -euo pipefail
n=${1:?streams}; seconds=${2:?seconds}; out=${3:?output directory}
. "$(dirname "$0")/watch_lib.sh"
rm -rf "$out"; mkdir -p "$out"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
echo "cameras:" > "$out/cameras.yaml"
for i in $(seq 1 "$n"); do
  port=$((19500 + i))
  ffmpeg -nostdin -v error -re -stream_loop -1 -i "$video" -c copy -f mpegts "tcp://127.0.0.1:$port?listen=1" 2>"$out/ffmpeg$i.log" &
  pids+=($!)
  printf '  - id: cam%s\n    url: tcp://127.0.0.1:%s\n' "$i" "$port" >> "$out/cameras.yaml"
done
machine_info "$out/machine.txt"
http=$((19600 + RANDOM % 300))
dotnet "$reid" serve --data "$out/gallery" --urls "http://127.0.0.1:$http" --detector "$detector" --watch "$out/cameras.yaml" \
  > "$out/serve.out" 2> "$out/serve.err" &
serve=$!; pids+=($serve)
for _ in $(seq 1 120); do grep -q '^sign in' "$out/serve.out" 2>/dev/null && break; sleep 1; done
grep -q '^sign in' "$out/serve.out" || { echo "reid serve did not start:" >&2; cat "$out/serve.err" >&2; exit 1; }
key=$(awk '/^admin key/ {print $4}' "$out/serve.out")
signin=$(awk '/^sign in/ {print $4}' "$out/serve.out")
curl -sN -H "X-Api-Key: $key" "http://127.0.0.1:$http/api/events" > "$out/events.sse" &
pids+=($!)
node --experimental-websocket "$(dirname "$0")/live_tab.mjs" "$signin" "$seconds" "$out" 120 > "$out/live_tab.out" 2>&1 || true
curl -s -H "X-Api-Key: $key" "http://127.0.0.1:$http/api/live/cameras" > "$out/live_cameras.json"
kill -TERM "$serve"; wait "$serve" || true
echo "wall $seconds s of watching; stopped $(date -u +%FT%TZ)" >> "$out/machine.txt"
sed -n 's/^data: //p' "$out/events.sse" | grep '"event"' > "$out/watch.jsonl" || true
python3 "$(dirname "$0")/watch_capacity.py" "$out/watch.jsonl" | tee "$out/summary.txt"
python3 - "$out" <<'EOF' | tee -a "$out/summary.txt"
import json, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/live-tab.jsonl")]
print(f"live tab: {len(rows)} looks over {rows[-1]['t']} s; tiles {sorted({r['tiles'] for r in rows})}; feed items first/last "
      f"{rows[0]['feed']}/{rows[-1]['feed']}; connection '{rows[-1]['connection']}'; JavaScript errors {rows[-1]['errors']}")
print(open(f"{sys.argv[1]}/live_tab.out").read().strip())
EOF
