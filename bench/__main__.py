"""`python -m bench [all|ingest] [--seconds N] [--pg URL]`: run benchmarks and print figures."""

from __future__ import annotations

import argparse

from bench import ingest
from bench.common import DEFAULT_PG


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("workload", nargs="?", default="all", choices=["all", "ingest"])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args()
    if args.workload in ("all", "ingest"):
        ingest.run(args.pg, args.seconds)


if __name__ == "__main__":
    main()
