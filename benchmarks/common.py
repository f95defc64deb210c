"""Shared helpers: the machine line, timing, and the emulator in its own process."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import NoReturn, TypeVar

T = TypeVar("T")


def parse_args(description: str) -> argparse.Namespace:
    """``--tiny`` shrinks a benchmark to seconds (the test suite uses it to keep them working)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tiny", action="store_true", help="a few seconds, for the test suite")
    return parser.parse_args()


def header(name: str) -> None:
    """Print what runs where and when."""
    print(f"== {name}")
    print(
        f"   machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
    )


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Return ``fn()`` and the seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def child_json(module: str, *args: str) -> dict[str, float]:
    """Run ``python -m benchmarks.<module> --child ARGS`` in a fresh process; return the JSON
    its last line prints."""
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--child", *args],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def peak_mib() -> float:
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def finish_child() -> NoReturn:
    """End a measuring child process as Airflow ends a task process: output flushed, then
    ``os._exit`` without the interpreter's teardown. Native libraries' exit-time destructors
    abort now and then ("terminate called without an active exception", once in 31 runs of
    the quality child here), after the figures were printed and never inside a task."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def report(label: str, value: float, unit: str) -> None:
    """Print one figure, aligned."""
    print(f"   {label:<44} {value:>12,.3f} {unit}")


def verdict(label: str, ratio: float, goal: str, met: bool) -> None:
    """Print the ratio against the baseline and whether the goal is met (never fails)."""
    print(f"   {label:<44} {ratio:>12.3f}   goal {goal}: {'met' if met else 'NOT met'}")


@contextmanager
def conn_env(url: str, **extra: object) -> Iterator[None]:
    """Point ``fansly_default`` at ``url`` for the duration."""
    from airflow_provider_fansly.testing.emulator import DEFAULT_KEY
    from devtools.stack import connection_env

    old = os.environ.get("AIRFLOW_CONN_FANSLY_DEFAULT")
    os.environ["AIRFLOW_CONN_FANSLY_DEFAULT"] = connection_env(url, DEFAULT_KEY, **extra)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("AIRFLOW_CONN_FANSLY_DEFAULT", None)
        else:
            os.environ["AIRFLOW_CONN_FANSLY_DEFAULT"] = old


def run_operator(
    ids: list[str],
    after: int,
    before: int,
    period: int = 86_400_000,
    lake: str | None = None,
    account: str | None = None,
) -> dict:
    """Run the operator's whole task (fetch, validate, stage, commit) into ``lake`` (default:
    a scratch lake), for ``account`` (default: the emulator's)."""
    import tempfile

    from airflow_provider_fansly.operators.media_stats import MediaStatsOperator
    from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT

    with tempfile.TemporaryDirectory() as scratch:
        operator = MediaStatsOperator(
            task_id="bench",
            account_id=account or DEFAULT_ACCOUNT,
            media_offer_ids=ids,
            output_path=lake or scratch,
            period=period,
            after_date=after,
            before_date=before,
        )
        return dict(operator.execute({}))  # type: ignore[arg-type]
