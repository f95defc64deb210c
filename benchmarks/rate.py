"""Benchmark 2, rate-bound: 180 requests under a plan of 120 requests a minute (60 s window).

The operator paces itself from ``requests_per_minute``: it sends the first 120 at once, then
the rest as the sliding window frees up. The baseline is the theoretical floor measured in
the same terms: with 120 per 60 s, request 121 cannot go before second 60. Goal: done within
1.5 minutes with no 429.

    python -m benchmarks.rate [--tiny]
"""

from __future__ import annotations

import httpx

from benchmarks.common import conn_env, header, parse_args, report, run_operator, timed, verdict
from devtools.stack import emulator_process

DAY = 86_400_000
START = 1_767_225_600_000


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    header("rate-bound fetch: pacing under the plan's sliding window")
    limit, window, requests = (6, 3.0, 9) if args.tiny else (120, 60.0, 180)
    import airflow_provider_fansly.operators.media_stats  # noqa: F401 - imports out of the timing

    emulator = ("--rate-limit", str(limit), "--rate-window", str(window))
    ids = [f"rate-{i}" for i in range(requests)]
    with (
        emulator_process(*emulator) as url,
        conn_env(url, requests_per_minute=limit, rate_window_seconds=window),
    ):
        summary, seconds = timed(lambda: run_operator(ids, START, START + DAY))
        stats = httpx.get(f"{url}/_emulator/stats").json()
    floor = window * ((requests - 1) // limit)
    report(f"operator: {summary['requests']} requests", seconds, "s")
    report("theoretical floor (the window's own limit)", floor, "s")
    report("429 answers from the server", stats["rate_limited"], "")
    met = seconds <= 1.5 * window and stats["rate_limited"] == 0
    verdict("operator time / floor", seconds / floor, "<= 1.5 window, no 429", met)


if __name__ == "__main__":
    main()
