"""The benchmarks keep working: each runs in its tiny mode and prints its figures.

Nothing here fails on a time: the goals are printed as met or not, never asserted. The tiny
runs start together (each in its own process, with its own emulator) and are checked one by
one: together they take about half as long as one after another.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

FIGURES = {
    "latency": ["operator:", "sequential client:", "operator time / sequential time"],
    "rate": ["theoretical floor", "429 answers from the server", "operator time / floor"],
    "datapath": ["bare baseline:", "provider, validated:", "validation overhead"],
    "memory": ["MiB peak", "peak /"],
    "commit": ["sequential:", "concurrent:", "steady-state table / empty table"],
    "credits": ["429s / requests", "time / minimum", "answers paid / minimum"],
    "quality": ["all seven checks", "checks time / baseline time", "checks peak (MiB)"],
}


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[int, str, str]]:
    """Every benchmark's tiny run, started together: (exit code, stdout, stderr) by name."""
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", f"benchmarks.{name}", "--tiny"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in FIGURES
    }
    done = {}
    for name, proc in started.items():
        out, err = proc.communicate(timeout=600)
        done[name] = (proc.returncode, out, err)
    return done


@pytest.mark.parametrize("module", sorted(FIGURES))
def test_benchmark_runs_and_prints_its_figures(
    runs: dict[str, tuple[int, str, str]], module: str
) -> None:
    code, out, err = runs[module]
    assert code == 0, err[-3000:]
    for figure in FIGURES[module]:
        assert figure in out
    assert "goal" in out and "machine:" in out
