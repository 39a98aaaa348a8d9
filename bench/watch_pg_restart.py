#!/usr/bin/env python3
"""Summarises bench/watch_pg_restart.sh: the worker's cameras, leases and stored reports around a PostgreSQL restart."""
import json, sys

path, identities, start, down, up = sys.argv[1], sys.argv[2], *map(float, sys.argv[3:6])
rows = []
for line in open(path):
    t, _, body = line.partition(" ")
    if body.strip().startswith("{"):
        rows.append((float(t) - start, json.loads(body)))
down, up = down - start, up - start
print(f"database stopped at {down:.1f} s, started again at {up:.1f} s (of the run)")
for t, r in rows:
    if r["event"] == "lease":
        print(f"  {t:6.1f} s lease {r['action']} {r['camera']}" + (f" ({r['reason'][:90]})" if r.get("reason") else ""))
status = [(t, r) for t, r in rows if r["event"] == "status"]
failing = [(t, r) for t, r in status if r.get("pipeline_error")]
if failing:
    print(f"  reports not stored shown from {failing[0][0]:.1f} s to {failing[-1][0]:.1f} s; e.g. {failing[0][1]['pipeline_error'][:120]}")
for cam in sorted({r["camera"] for _, r in status}):
    ticks = [(t, r) for t, r in status if r["camera"] == cam]
    # recovered: from the first tick after the restart from which the camera stays live with nothing waiting
    ok = [r["status"] == "live" and not r.get("pipeline_error") for _, r in ticks]
    after = [t for i, (t, _) in enumerate(ticks) if t > up and all(ok[i:])]
    states = " ".join(f"{t:.0f}:{r['status'][:4]}{'!' if r.get('pipeline_error') else ''}" for t, r in ticks if down - 6 < t < up + 40)
    print(f"  {cam}: around the outage {states}")
    print(f"  {cam}: live with nothing waiting from {after[0] - up:.1f} s after the database came back" if after else f"  {cam}: not back to normal by the end")
events = [(t, r) for t, r in rows if r["event"] in ("new_identity", "link", "known_sighting", "sighting")]
after_up = [t for t, _ in events if t > up]
print(f"events: {len(events)} acknowledged ({sum(1 for t, _ in events if down <= t <= up)} during the outage); "
      f"first after the restart at +{after_up[0] - up:.1f} s" if after_up else f"events: {len(events)}; none after the restart")
stored = {}
for line in open(identities):
    i, name, n = line.split()
    stored[int(i)] = (name, int(n))
acked = {}
for _, r in events:
    acked[r["identity"]] = acked.get(r["identity"], 0) + r["sightings_stored"]
lost = [i for i, n in acked.items() if stored.get(i, ("", 0))[1] < n]
names = [n for n, _ in stored.values()]
print(f"identities whose acknowledged sightings are not all in the gallery: {len(lost)}; identities in the gallery {len(stored)}, "
      f"duplicate names {len(names) - len(set(names))}; new_identity events {sum(1 for _, r in events if r['event'] == 'new_identity')}")
