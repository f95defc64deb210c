"""Benchmark 1, latency-bound: 120 media offers x 31 days at 100 ms per answer, no rate limit.

The operator fetches them concurrently (bounded, under its pacing); the baseline is a plain
sequential client, one request at a time, as a loop of HttpOperator calls would be. Both talk
to the emulator in its own process over loopback. Goal: at most 0.15 of the sequential time.

    python -m benchmarks.latency [--tiny]
"""

from __future__ import annotations

import httpx

from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY
from benchmarks.common import conn_env, header, parse_args, report, run_operator, timed, verdict
from devtools.stack import emulator_process

DAY = 86_400_000
START = 1_767_225_600_000  # 2026-01-01T00:00Z


def sequential(url: str, ids: list[str], days: int) -> int:
    """One request after the other, each waiting for its answer."""
    with httpx.Client(base_url=url, headers={"x-api-key": DEFAULT_KEY}, timeout=30) as client:
        for media in ids:
            answer = client.get(
                f"/api/fansly/{DEFAULT_ACCOUNT}/analytics/media/{media}",
                params={"afterDate": START, "beforeDate": START + days * DAY, "period": DAY},
            )
            answer.raise_for_status()
    return len(ids)


def operator(ids: list[str], days: int) -> int:
    """The operator's whole run; return the requests it sent."""
    return int(run_operator(ids, START, START + days * DAY)["requests"])


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    header("latency-bound fetch: operator vs a sequential client")
    media_count, days = (12, 31) if args.tiny else (120, 31)
    ids = [f"lat-{i}" for i in range(media_count)]
    with emulator_process("--latency-ms", "100") as url, conn_env(url):
        operator(ids[:2], 1)  # warm imports
        requests, fast = timed(lambda: operator(ids, days))
        _, slow = timed(lambda: sequential(url, ids, days))
    report(f"operator: {requests} requests", fast, "s")
    report(f"sequential client: {media_count} requests", slow, "s")
    ratio = fast / slow
    verdict("operator time / sequential time", ratio, "<= 0.15", ratio <= 0.15)


if __name__ == "__main__":
    main()
