"""The layers of docs/architecture.md hold, and breaking one is caught (import-linter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

#: the console script of the environment running the tests
LINT = [
    str(Path(sys.executable).with_name("lint-imports")),
    "--no-cache",
    str(ROOT / "pyproject.toml"),
]


def _lint(*args: str, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the contracts on the package under ``root`` (lint-imports looks in its cwd first)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [*LINT, *args], cwd=root, capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_every_contract_is_kept() -> None:
    done = _lint()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


#: one import against each contract: (module, the line added, the contract it breaks)
BREAKS = {
    "client-imports-airflow": ("client/windows.py", "import airflow.sdk", "client-alone"),
    "client-imports-storage": (
        "client/models.py",
        "from airflow_provider_fansly.storage import layout",
        "client-alone",
    ),
    "storage-imports-ingest": (
        "storage/layout.py",
        "import airflow_provider_fansly.ingest.policy",
        "layers",
    ),
    "ingest-imports-quality": (
        "ingest/policy.py",
        "import airflow_provider_fansly.quality.findings",
        "layers",
    ),
    "quality-imports-the-client": (
        "quality/findings.py",
        "import airflow_provider_fansly.client.fansly",
        "tables-never-fetch",
    ),
    "page-imports-ingest": (
        "plugins/lakes.py",
        "import airflow_provider_fansly.ingest.policy",
        "page-reads",
    ),
    "emulator-imports-storage": (
        "testing/synthetic.py",
        "import airflow_provider_fansly.storage.layout",
        "emulator-is-a-fake-api",
    ),
    "a-cycle-in-client": (
        "client/ids.py",
        "import airflow_provider_fansly.client.engine",
        "no-cycles",
    ),
}


@pytest.mark.parametrize(("module", "line", "contract"), BREAKS.values(), ids=BREAKS.keys())
def test_breaking_a_contract_fails_naming_it(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    """Each contract fails on a copy of the package with one import added against it."""
    copy = tmp_path / "airflow_provider_fansly"
    shutil.copytree(ROOT / "airflow_provider_fansly", copy, ignore=shutil.ignore_patterns("*.pyc"))
    target = copy / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    done = _lint("--contract", contract, root=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 broken" in done.stdout and module.split("/")[0] in done.stdout
