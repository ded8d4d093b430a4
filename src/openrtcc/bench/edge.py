"""`rtcc bench edge`: the edge box's three figures, each written as its own docs/benchmarks.md section.

record: concurrent 720p streams received, encrypted and written (bench/edge_recording.py)
alpr:   plate reading on the 20 s sample clip, wall time and plates reported (bench/edge_alpr.py)
live:   live view glass-to-glass latency in a real browser (bench/edge_live.py)
"""

from __future__ import annotations

import sys

PARTS = ("record", "alpr", "live")


def run_edge_bench(args) -> int:
    wanted = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in wanted if p not in PARTS]
    if unknown or not wanted:
        print(f"rtcc bench edge: unknown part(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(PARTS)}",
              file=sys.stderr)
        return 2
    status = 0
    for part in wanted:
        if part == "record":
            from openrtcc.bench.edge_recording import run_recording_bench as run
        elif part == "alpr":
            from openrtcc.bench.edge_alpr import run_edge_alpr_bench as run
        else:
            from openrtcc.bench.edge_live import run_live_bench as run
        status = max(status, run(args))
    return status
