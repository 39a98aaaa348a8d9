#!/usr/bin/env python3
"""Summarises `reid watch --json` output of bench/watch_capacity.sh: per camera and overall."""
import json, statistics, sys

def q(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")

lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
status = [l for l in lines if l["event"] == "status"]
events = [l for l in lines if l["event"] not in ("status", "webhook", "lease")]
cams = sorted({s["camera"] for s in status})
print(f"{len(cams)} camera(s), {len(status)} status lines, {len(events)} events")
ok = True
for c in cams:
    ticks = [s for s in status if s["camera"] == c]
    # Steady state: from the first tick at which the camera is live and frames are processed on (before it, the models
    # load and warm up while frames queue up).
    start = next((i for i, t in enumerate(ticks) if t["status"] == "live" and t["frames_processed"] > 0), 0)
    first = ticks[start]
    steady = ticks[start + 1:] or ticks
    last = ticks[-1]
    decoded, dropped = last["frames_decoded"], last["frames_dropped"]
    drop = (dropped - first["frames_dropped"]) / max(1, decoded - first["frames_decoded"])
    p50s = [t["lag_p50_ms"] for t in steady if t.get("lag_p50_ms") is not None]
    p95s = [t["lag_p95_ms"] for t in steady if t.get("lag_p95_ms") is not None]
    third = max(1, len(p50s) // 3)
    early, late = statistics.median(p50s[:third]) if p50s else float("nan"), statistics.median(p50s[-third:]) if p50s else float("nan")
    fps = statistics.median([t["fps"] for t in steady])
    keeps = drop < 0.05 and late < 2 * max(early, 100)
    ok &= keeps
    print(f"{c}: fps processed median {fps:.2f}; decoded {decoded}, dropped {dropped} in all, {100*drop:.1f}% after the first live tick; "
          f"frame lag p50 median {statistics.median(p50s) if p50s else float('nan'):.0f} ms (first third {early:.0f}, last third {late:.0f}), "
          f"p95 max {max(p95s) if p95s else float('nan'):.0f} ms; states {sorted({t['status'] for t in ticks})} -> {'keeps up' if keeps else 'FALLS BEHIND'}")
lat = [e["latency_ms"] for e in events if e.get("latency_ms") is not None]
print(f"event latency (frame that produced it -> event written): p50 {q(lat, .5):.0f} ms, p95 {q(lat, .95):.0f} ms over {len(lat)} events")
print(f"events by kind: { {k: sum(1 for e in events if e['event'] == k) for k in sorted({e['event'] for e in events})} }")
print("ALL CAMERAS KEEP UP" if ok else "NOT ALL CAMERAS KEEP UP")
