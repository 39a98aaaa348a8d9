#!/usr/bin/env python3
"""Summarises bench/watch_faults.sh: cam2's outage and recovery, cam1 meanwhile, acknowledged events against the gallery."""
import json, sqlite3, statistics, sys
from datetime import datetime, timezone

lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
down, up = float(sys.argv[3]), float(sys.argv[4])   # seconds after the watcher started
# Status lines carry no time of their own: they come every 2 s from the start, so the k-th tick of a camera is at ~2k s.
status = [l for l in lines if l["event"] == "status"]
cam2 = [s for s in status if s["camera"] == "cam2"]
cam1 = [s for s in status if s["camera"] == "cam1"]
print("cam2 states by tick (2 s each):", " ".join(f"{s['status']}:{s['frames_decoded']}" for s in cam2))
# First tick after the restart whose decoded count grew and whose state is live.
# Tick k is reported ~2(k+1) s after the start; ticks before the first live one are the start-up.
first_live = next(i for i, s in enumerate(cam2) if s["status"] == "live")
dead_ticks = [i for i, s in enumerate(cam2) if s["status"] != "live" and i > first_live]
if dead_ticks:
    first_dead, last_dead = dead_ticks[0], dead_ticks[-1]
    print(f"cam2 not live from ~{2*(first_dead+1)} s to ~{2*(last_dead+1)} s; its server was down from {down:.0f} s to {up:.0f} s; "
          f"live again ~{2*(last_dead+2) - up:.0f} s (±2 s) after the server came back; reconnects {cam2[-1]['reconnects']}; "
          f"errors seen: {sorted({s['last_error'] for s in cam2 if s['last_error']})[:2]}")
else:
    print("cam2 never left live in a status tick")
fps1 = [s["fps"] for s in cam1[1:]]
print(f"cam1 meanwhile: fps median {statistics.median(fps1):.2f}, min {min(fps1):.2f}; dropped {cam1[-1]['frames_dropped'] - cam1[0]['frames_dropped']} after the first tick; "
      f"states {sorted({s['status'] for s in cam1})}")
events = [l for l in lines if l["event"] in ("new_identity", "link", "known_sighting", "sighting")]
db = sqlite3.connect(sys.argv[2])
lost = 0
for e in events:
    n = db.execute("select count(*) from sightings where identity_id = ?", (e["identity"],)).fetchone()[0]
    if n < e["sightings_stored"]:
        lost += 1
names = [e["name"] for e in events if e["event"] == "new_identity"]
print(f"acknowledged events {len(events)}; events whose identity lacks its stored sightings: {lost}; "
      f"duplicate new identities by name: {len(names) - len(set(names))}; identities in gallery {db.execute('select count(*) from identities').fetchone()[0]}")
