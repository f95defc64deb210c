"""Benchmark 4, memory: peak RSS of one task of 200 media offers by window length.

Daily over three years against 30 days, hourly over a year against 30 days. Each window runs
in a fresh process (the operator's whole run: fetch, validate, stage, commit) against the
emulator in its own process; the figure is the process's peak RSS.
Goal: each long window's peak at most 1.3x its 30-day peak.

    python -m benchmarks.memory [--tiny]
"""

from __future__ import annotations

import json
import sys

from benchmarks.common import (
    child_json,
    conn_env,
    finish_child,
    header,
    parse_args,
    peak_mib,
    report,
    run_operator,
    verdict,
)
from devtools.stack import emulator_process

HOUR = 3_600_000
DAY = 86_400_000
START = 1_672_531_200_000  # 2023-01-01T00:00Z: three years end before today


def one_task(media_count: int, days: int, period: int) -> None:
    """Run the operator once and print its peak RSS in MiB (in a child process)."""
    ids = [f"mem-{i}" for i in range(media_count)]
    summary = run_operator(ids, START, START + days * DAY, period=period)
    print(
        json.dumps(
            {"peak_mib": peak_mib(), "rows": summary["rows"], "requests": summary["requests"]}
        )
    )


def measure(media_count: int, days: int, period: int) -> dict[str, float]:
    """Run one task in a fresh interpreter; return its figures."""
    return child_json("memory", str(media_count), str(days), str(period))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        one_task(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        finish_child()
    args = parse_args(__doc__.splitlines()[0])
    header("memory: peak RSS of one task by window length")
    media_count = 4 if args.tiny else 200
    cases = {"daily": (DAY, 3, 36), "hourly": (HOUR, 3, 36)}
    if not args.tiny:
        cases = {"daily": (DAY, 30, 1095), "hourly": (HOUR, 30, 365)}
    with emulator_process() as url, conn_env(url):
        for name, (period, short, long) in cases.items():
            figures = {days: measure(media_count, days, period) for days in (short, long)}
            for days, fig in figures.items():
                report(
                    f"{media_count} media offers x {days} days {name}: {fig['rows']:,.0f} rows, "
                    f"{fig['requests']:.0f} req",
                    fig["peak_mib"],
                    "MiB peak",
                )
            ratio = figures[long]["peak_mib"] / figures[short]["peak_mib"]
            verdict(f"{name}: {long}-day peak / {short}-day peak", ratio, "<= 1.3", ratio <= 1.3)


if __name__ == "__main__":
    main()
