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
    "storage-imports-airflow": (
        "storage/layout.py",
        "import airflow.sdk",
        "no-airflow-below-the-hooks",
    ),
    "ingest-imports-airflow": (
        "ingest/policy.py",
        "from airflow.sdk import BaseHook",
        "no-airflow-below-the-hooks",
    ),
    "page-imports-the-fansly-hook": (
        "plugins/lakes.py",
        "import airflow_provider_fansly.hooks.fansly",
        "page-reads",
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


def test_a_module_in_no_layer_breaks_the_layers(tmp_path: Path) -> None:
    """The layers are exhaustive: a new top-level module must be given its place."""
    copy = tmp_path / "airflow_provider_fansly"
    shutil.copytree(ROOT / "airflow_provider_fansly", copy, ignore=shutil.ignore_patterns("*.pyc"))
    (copy / "stray.py").write_text("X = 1\n")
    done = _lint("--contract", "layers", root=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stray" in done.stdout + done.stderr


#: Imports every module of the packages below the hooks with ``airflow`` unimportable.
WITHOUT_AIRFLOW = """
import importlib, pkgutil, sys

class NoAirflow:
    def find_spec(self, name, path=None, target=None):
        if name == "airflow" or name.startswith("airflow."):
            raise ImportError(f"{name} imported below the hooks")

sys.meta_path.insert(0, NoAirflow())
import airflow_provider_fansly
names = []
for package in ("client", "ingest", "quality", "storage"):
    module = importlib.import_module(f"airflow_provider_fansly.{package}")
    names.append(module.__name__)
    for info in pkgutil.walk_packages(module.__path__, prefix=module.__name__ + "."):
        importlib.import_module(info.name)
        names.append(info.name)
print(len(names))
"""


def test_every_module_below_the_hooks_imports_without_airflow() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_AIRFLOW],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.strip()) >= 40  # the four packages' modules, all of them
