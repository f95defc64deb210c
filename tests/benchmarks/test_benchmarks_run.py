"""The benchmarks keep working: each runs in its tiny mode and prints its figures.

Nothing here fails on a time: the goals are printed as met or not, never asserted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize(
    ("module", "figures"),
    [
        ("latency", ["operator:", "sequential client:", "operator time / sequential time"]),
        ("rate", ["the key-rate minimum", "time / key-rate minimum", "429s / requests"]),
        ("datapath", ["bare baseline:", "provider, validated:", "validation overhead"]),
        ("memory", ["MiB peak", "peak /"]),
        ("commit", ["sequential:", "concurrent:", "steady-state table / empty table"]),
        ("credits", ["answers paid / minimum", "with resume: answers paid / every send"]),
        ("quality", ["all seven checks", "checks time / baseline time", "checks peak (MiB)"]),
        ("page", ["first render (nothing cached)", "first render / baseline", "second render"]),
        ("planner", ["planner credits per 30 days", "planner / daily DAG", "planner / floor"]),
    ],
)
def test_benchmark_runs_and_prints_its_figures(module: str, figures: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for figure in figures:
        assert figure in done.stdout
    assert "goal" in done.stdout and "machine:" in done.stdout


def test_the_agency_benchmark_measures_a_real_layout_and_loses_no_task(tmp_path: Path) -> None:
    """Its reference lake holds what the emulator serves (a slice fetched through the
    operator, compared row by row), and its batches committing at once all commit."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.agency", "--tiny", "--root", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    checked = re.search(r"equal to the emulator's: (\d+) rows", out)
    failed = re.search(r"batches at once: failed tasks\s+([\d.]+)", out)
    assert checked and int(checked.group(1)) > 0
    assert failed and float(failed.group(1)) == 0
    for figure in ("one-day commit: reference lake / empty", "full audit: peak RSS",
                   "page: first render", "quality: reference / a tenth"):  # fmt: skip
        assert figure in out
