"""Run every benchmark in turn: ``python -m benchmarks [--tiny]``."""

from __future__ import annotations

import subprocess
import sys

MODULES = (
    "latency",
    "rate",
    "datapath",
    "memory",
    "commit",
    "credits",
    "quality",
    "page",
    "agency",
    "planner",
)

if __name__ == "__main__":
    failed = 0
    for name in MODULES:
        done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *sys.argv[1:]])
        failed += done.returncode != 0
    sys.exit(1 if failed else 0)
