"""The benchmarks keep working: each runs in its tiny mode and prints its figures.

Nothing here fails on a time: the goals are printed as met or not, never asserted.
"""

from __future__ import annotations

import subprocess
import sys

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
