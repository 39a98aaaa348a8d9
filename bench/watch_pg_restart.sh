#!/usr/bin/env bash
# PostgreSQL restarted under load (issue #22 "Figures", faults): two live loopback streams of the shared video through one
# `reid watch` worker on a PostgreSQL gallery (a throwaway cluster started here) for SECONDS; the database is stopped
# (`pg_ctl stop -m fast`: every session cut) at DOWN_AT s and started again at UP_AT s. Every output line is stamped with
# the wall clock. Reported by watch_pg_restart.py: the cameras' states, the lease events, reports that could not be
# stored and when storing worked again, and whether every acknowledged event's identity is in the gallery with its
# sightings (0 lost is the goal), duplicate identities.
# Usage: bench/watch_pg_restart.sh OUT_DIR [SECONDS=150] [DOWN_AT=40] [UP_AT=60] [LEASE_SECONDS=15]
set -euo pipefail
out=${1:?output directory}; seconds=${2:-150}; down=${3:-40}; up=${4:-60}; lease=${5:-15}
. "$(dirname "$0")/watch_lib.sh"
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
rm -rf "$out"; mkdir -p "$out"; chmod 0777 "$out"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
port=$((55400 + RANDOM % 500))
as_pg "$bin/initdb" -D "$out/pg" -U postgres -A trust --no-sync -E UTF8 > "$out/initdb.log"
pg() { as_pg "$bin/pg_ctl" -D "$out/pg" -l "$out/pg.log" -w -t 60 -o "-p $port -k $out -c listen_addresses=127.0.0.1 -c fsync=off" "$@"; }
pg start > /dev/null
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres reid
db="Host=127.0.0.1;Port=$port;Username=postgres;Database=reid;Timeout=5"
# A camera serves whoever connects, again and again (ffmpeg's listen=1 serves one client: it is restarted after each).
serve() { (while true; do ffmpeg -nostdin -v error -re -stream_loop -1 -i "$video" -c copy -f mpegts "tcp://127.0.0.1:$1?listen=1" \
  2>>"$out/ffmpeg$1.log"; sleep 0.2; done) >/dev/null & echo $!; }
p1=$(serve 19411); p2=$(serve 19412)
trap 'kill $p1 $p2 2>/dev/null || true; pkill -f "tcp://127.0.0.1:1941[12]" || true; pg stop -m immediate >/dev/null 2>&1 || true' EXIT
machine_info "$out/machine.txt"
sleep 1
start=$(date +%s.%N)
dotnet "$reid" watch --camera cam1=tcp://127.0.0.1:19411 --camera cam2=tcp://127.0.0.1:19412 --database "$db" --worker bench \
  --lease-seconds "$lease" --detector "$detector" --duration "$seconds" --interim 5 --status-every 2 --json 2> "$out/watch.err" \
  | python3 -u -c 'import sys,time
for l in sys.stdin: print(f"{time.time():.3f} {l}", end="", flush=True)' > "$out/watch.jsonl" &
w=$!
sleep "$down"; pg stop -m fast > /dev/null; down_at=$(date +%s.%N)
sleep $((up - down)); pg start > /dev/null; up_at=$(date +%s.%N)
wait $w || true
as_pg "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d reid -At -F ' ' \
  -c "select i.id, i.name, count(s.id) from identities i left join sightings s on s.identity_id = i.id group by i.id, i.name order by i.id" > "$out/identities.txt"
python3 "$(dirname "$0")/watch_pg_restart.py" "$out/watch.jsonl" "$out/identities.txt" "$start" "$down_at" "$up_at" | tee "$out/summary.txt"
