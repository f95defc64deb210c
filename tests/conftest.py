"""Shared fixtures: an isolated Airflow home, the emulator over loopback, a fansly connection."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_HOME = tempfile.mkdtemp(prefix="fansly-test-airflow-")
DAGS_FOLDER = Path(_HOME) / "dags"
DAGS_FOLDER.mkdir()
# dag.test() needs each DAG file inside the dags folder: link the examples and the probe.
for _dag_file in [*(ROOT / "dags").glob("*.py"), *(ROOT / "tests" / "dags").glob("*.py")]:
    (DAGS_FOLDER / _dag_file.name).symlink_to(_dag_file)
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_FOLDER)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME}/airflow.db"
os.environ.pop("AIRFLOW_CONN_FANSLY_DEFAULT", None)

from airflow_provider_fansly.testing.emulator import (  # noqa: E402
    DEFAULT_KEY,
    Emulator,
    EmulatorConfig,
)
from devtools.stack import connection_env  # noqa: E402

if str(ROOT / "tests" / "dags") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "dags"))

FAST_RETRIES = {"max_retries": 3, "retry_backoff_seconds": 0.01, "timeout": 5}


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[Emulator]:
    """One emulator for the session, on a free loopback port."""
    with Emulator(EmulatorConfig()) as emu:
        yield emu


@pytest.fixture
def emu(emulator_server: Emulator) -> Emulator:
    """The session's emulator with counters, faults and settings back to their defaults."""
    defaults = EmulatorConfig()
    for name in vars(defaults):
        setattr(emulator_server.config, name, getattr(defaults, name))
    emulator_server.state.reset()
    return emulator_server


def connection_json(url: str, key: str = DEFAULT_KEY, **extra: object) -> str:
    """An ``AIRFLOW_CONN_*`` value for a fansly connection (the key defaults to the emulator's)."""
    return connection_env(url, key, **extra)


@pytest.fixture
def fansly_conn(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """``fansly_default`` pointing at the emulator, with fast retries."""
    monkeypatch.setenv("AIRFLOW_CONN_FANSLY_DEFAULT", connection_json(emu.url, **FAST_RETRIES))
    return emu


LogText = Callable[[], str]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> LogText:
    """Everything logged so far, through stdlib logging or Airflow's structlog on stdout."""
    caplog.set_level(logging.INFO)

    def text() -> str:
        captured = capsys.readouterr()
        return caplog.text + captured.out + captured.err

    return text


@pytest.fixture(scope="session")
def airflow_db() -> str:
    """Migrate the session's SQLite metadata DB once (dag.test() needs it)."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return _HOME


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A local S3 (moto's server) on loopback, for one test module."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_lake(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the local S3, as a lake URL through the ``aws_default`` connection."""
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
            }
        ),
    )
    bucket = f"lake-{time.time_ns()}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return f"s3://aws_default@{bucket}/fansly"
