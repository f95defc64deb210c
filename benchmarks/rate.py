"""Benchmark 2, pacing: tasks on one key of L requests per sliding window of W seconds.

The vendor's window is 60 s (the default here); ``--window 5`` is a fast smoke run. Six cases,
each sending at least three windows' worth of requests, every task in its own process:

1. one task, its ``requests_per_minute`` set to the whole key;
2. one task with nothing configured;
3. 2, 4 and 8 tasks with nothing configured, sharing the key;
4. 4 tasks beside an outside consumer that takes a steady third of the key (from a window
   before they start; it never retries).

Each prints the time from the first request sent to the last answer against the key-rate
minimum (N - 1) x W / L (of the two thirds left, in case 4), and the share of the tasks'
requests answered 429. Goals: 1.05 / 0 for case 1, 1.1 / 2% for case 2, 1.1 / 5%
for 4 tasks, 1.15 / 5% for 8 tasks and for case 4.

    python -m benchmarks.rate [--tiny] [--window 60]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass

import httpx

from benchmarks.common import header, report, verdict

DAY = 86_400_000
START = 1_767_225_600_000
WINDOWS = 3  # each case sends at least this many windows' worth


@dataclass(frozen=True)
class Case:
    """One run: how many tasks, whether capped, the outside consumer's share, the goals."""

    label: str
    tasks: int
    capped: bool = False
    outside: float = 0.0
    slack: float = 1.1
    most_429: float = 0.05


CASES = (
    Case("1 task, its cap = the whole key", 1, capped=True, slack=1.05, most_429=0.0),
    Case("1 task, nothing configured", 1, most_429=0.02),
    Case("2 tasks sharing the key", 2),
    Case("4 tasks sharing the key", 4),
    Case("8 tasks sharing the key", 8, slack=1.15),
    Case("4 tasks beside an outside third", 4, outside=1 / 3, slack=1.15),
)


class Outside:
    """A steady consumer of the same key (the accounts route, so never logged as a task's)."""

    def __init__(self, url: str, key: str, per_second: float) -> None:
        self.url, self.key, self.gap = url, key, 1.0 / per_second
        self.sent = self.throttled = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(headers={"x-api-key": self.key}, timeout=10) as client:
            due = time.monotonic()
            while not self._stop.wait(max(0.0, due - time.monotonic())):
                self.sent += 1
                self.throttled += client.get(f"{self.url}/api/fansly/accounts").status_code == 429
                due += self.gap

    def __enter__(self) -> Outside:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_case(case: Case, limit: int, window: float) -> None:
    """Run one case on a fresh key and print its figures."""
    from airflow_provider_fansly.testing.emulator import DEFAULT_KEY, Emulator, EmulatorConfig
    from devtools.workers import finish, start_worker

    left = limit * (1 - case.outside)
    per = -(-int(WINDOWS * left + 1) // case.tasks)  # ceil: at least three windows' worth
    extra: dict[str, object] = {"rate_window_seconds": window}
    if case.capped:
        extra["requests_per_minute"] = limit
    with (
        tempfile.TemporaryDirectory() as lake,
        Emulator(EmulatorConfig(rate_limit=limit, rate_window=window)) as emu,
    ):
        outside = Outside(emu.url, DEFAULT_KEY, max(case.outside, 1e-9) * limit / window)
        with outside if case.outside else nullcontext():
            time.sleep(window if case.outside else 0)  # steady before the tasks start
            ids = [[f"t{t}-{m}" for m in range(per)] for t in range(case.tasks)]
            procs = [
                start_worker(lake, emu, START, START + DAY, ids=i, max_in_flight=16, extra=extra)
                for i in ids
            ]
            for proc in procs:
                finish(proc, timeout=20 * window + 300)
        counts, log = dict(emu.state.counts), list(emu.state.log)
    sent = counts["requests"] - outside.sent
    throttled = counts["rate_limited"] - outside.throttled
    span = max(e["at"] for e in log) - min(e["at"] for e in log)
    minimum = (len(log) - 1) * window / left
    share = throttled / sent
    print(f"   {case.label}: {len(log)} answers, {throttled} x 429")
    report("   time, first request to last answer", span, "s")
    report("   the key-rate minimum" + (" of what is left" if case.outside else ""), minimum, "s")
    if case.outside:
        report("   the outside consumer's 429s / its sends", outside.throttled / outside.sent, "")
    ratio = span / minimum
    verdict("   time / key-rate minimum", ratio, f"<= {case.slack}", ratio <= case.slack)
    verdict("   429s / requests", share, f"<= {case.most_429:.0%}", share <= case.most_429)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a few seconds, for the test suite")
    parser.add_argument("--window", type=float, default=60.0, help="the key's window, seconds")
    args = parser.parse_args()
    limit, window = (20, 2.0) if args.tiny else (round(10 * args.window), args.window)
    header(f"pacing: tasks on one key of {limit} per sliding {window:g} s")
    for case in CASES[:2] + CASES[3:4] if args.tiny else CASES:
        run_case(case, limit, window)


if __name__ == "__main__":
    main()
