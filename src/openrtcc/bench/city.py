"""`rtcc bench city`: the city-scale load test on loopback, once per hub process count (`--serve 1,3`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from openrtcc.bench.city_report import SECTION_TITLE, print_figures, section
from openrtcc.bench.city_run import CityOptions, pg_url_of, run_city
from openrtcc.bench.report import replace_section
from openrtcc.domain.errors import InvalidInput

log = logging.getLogger(__name__)


def serve_counts(text: str) -> list[int]:
    """`--serve 1,3` -> [1, 3]: each a positive process count."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInput(f"--serve takes comma-separated process counts, like 1,3 (got {text!r})") from None
    if not counts or any(n < 1 or n > 16 for n in counts):
        raise InvalidInput(f"--serve: each process count between 1 and 16 (got {text!r})")
    return counts


def options_of(args) -> CityOptions:
    checks = ((args.cameras >= args.edges >= 1, "--cameras must be at least --edges, and --edges at least 1"),
              (args.rate > 0 and args.seconds > 0, "--rate and --seconds must be positive"),
              (0 < args.hit_share <= 1, "--hit-share must be in (0, 1]"),
              (args.operators >= 1 and args.workers >= 1, "--operators and --workers must be at least 1"))
    for ok, message in checks:
        if not ok:
            raise InvalidInput(message)
    return CityOptions(cameras=args.cameras, edges=args.edges, rate=args.rate, hit_share=args.hit_share,
                       operators=args.operators, seconds=args.seconds, workers=args.workers,
                       pg_url=pg_url_of(args.pg_url))


def args_text(args) -> str:
    return (f"--cameras {args.cameras} --edges {args.edges} --rate {args.rate:g} --hit-share {args.hit_share:g} "
            f"--operators {args.operators} --seconds {args.seconds:g} --serve {args.serve} --workers {args.workers}")


def run_city_bench(args) -> int:
    try:
        counts, options = serve_counts(args.serve), options_of(args)
    except InvalidInput as exc:
        print(f"rtcc bench city: {exc}", file=sys.stderr)
        return 2
    runs = []
    for n in counts:
        log.info("city load with %s serve process(es)", n)
        runs.append(run_city(options, n))
    print_figures(runs, options)
    replace_section(Path(args.output), SECTION_TITLE, section(runs, options, args_text(args), args.note or ""))
    print(f"\nresults written to {args.output}")
    return 0
