"""`python -m bench [all|ingest|delivery|routing|reading|twoproc ...] [--quick]`: run benchmarks
and print their figures, then one summary table (workload, variant, throughput, p50, p99/p95,
server CPU-s per 1,000 operations)."""

from __future__ import annotations

import argparse

from bench import delivery, ingest, reading, routing, soak, twoproc
from bench.common import DEFAULT_PG, Result, print_results

WORKLOADS = ("ingest", "delivery", "routing", "reading", "twoproc")


def _ingest_results(rows: list[list[str]]) -> list[Result]:
    # ingest.run's rows: senders, msgs/s, p50, p99, CPU-s/1k, pgbench tps, ratio, errors
    return [
        Result(
            "ingest",
            f"{r[0]} senders",
            f"{r[1]} msgs/s",
            r[2],
            r[3],
            r[4],
            f"{r[6]} of pgbench ({r[5]} tps), {r[7]} errors",
        )
        for r in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "workloads",
        nargs="*",
        default=["all"],
        choices=["all", *WORKLOADS, "soak"],
        help="which workloads to run (default: all; soak only when named)",
    )
    parser.add_argument("--quick", action="store_true", help="short runs and small data")
    parser.add_argument(
        "--seconds", type=float, default=None, help="seconds per load step (ingest, delivery)"
    )
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server (scratch databases)")
    parser.add_argument(
        "--scale", type=float, default=None, help="reading: data scale (1 = 1M dialogs)"
    )
    parser.add_argument(
        "--requests", type=int, default=None, help="reading: requests per page kind"
    )
    parser.add_argument("--keep", action="store_true", help="reading: keep the generated database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reading: measure on the kept database of the same scale instead of rebuilding",
    )
    parser.add_argument("--employees", type=int, default=None, help="delivery: employees connected")
    parser.add_argument("--rate", type=float, default=250.0, help="soak: messages a second offered")
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379/7", help="soak: Redis for the two processes"
    )
    args = parser.parse_args()
    chosen = set(WORKLOADS) if "all" in args.workloads else set(args.workloads)
    quick = args.quick
    seconds = args.seconds if args.seconds is not None else (3.0 if quick else 10.0)
    employees = args.employees or (100 if quick else delivery.EMPLOYEES)
    rates = (50, 200) if quick else delivery.RATES
    results: list[Result] = []
    if "soak" in args.workloads:
        soak_seconds = args.seconds if args.seconds is not None else (60.0 if quick else 600.0)
        results += soak.run(args.pg, args.redis, soak_seconds, args.rate)
    if "ingest" in chosen:
        results += _ingest_results(ingest.run(args.pg, seconds))
    if "delivery" in chosen:
        results += delivery.run(args.pg, seconds / 2, rates, employees)
    if "routing" in chosen:
        results += routing.run(args.pg, quick=quick)
    if "reading" in chosen:
        scale = args.scale if args.scale is not None else (0.01 if quick else 1.0)
        requests = args.requests or (100 if quick else 1000)
        results += reading.run(
            args.pg,
            scale=scale,
            requests=requests,
            keep=args.keep,
            reuse=args.reuse,
            cap_seconds=20.0 if quick else 60.0,
        )
    if "twoproc" in chosen:
        results += twoproc.run(args.pg, seconds, rates, employees)
    print_results(results)


if __name__ == "__main__":
    main()
