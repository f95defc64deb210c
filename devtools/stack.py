"""Run real Airflow components on one machine and the services they need.

Used by ``make demo`` and the integration tests: api-server, scheduler, dag-processor and,
with the CeleryExecutor, its workers, each in their own process group, on free loopback
ports, stopped by group; the metadata database is SQLite or a PostgreSQL server started
here, the Celery broker Debian's Redis, the object store moto's S3 server. The settings are
the ones found to work on a 2-core machine.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "AirflowStack",
    "connection_env",
    "emulator_process",
    "free_port",
    "postgres_server",
    "redis_server",
    "s3_server",
]

COMPONENTS = ("scheduler", "dag-processor")


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


@contextmanager
def _service(
    command: list[str], ready: Callable[[], bool], what: str, timeout: float = 30, **popen: Any
) -> Iterator[None]:
    """Run ``command`` in its own process group until the block ends; wait until ``ready``."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, start_new_session=True, **popen)
    try:
        _wait(ready, timeout, what)
        yield
    finally:
        _stop_group(proc)


@contextmanager
def emulator_process(*args: str) -> Iterator[str]:
    """Run ``fansly-emulator`` in its own process on a free port; yield its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    module = "airflow_provider_fansly.testing.emulator"
    command = [sys.executable, "-m", module, "--port", str(port), *args]
    with _service(command, lambda: _answers(f"{url}/_emulator/stats"), "the emulator start"):
        yield url


@contextmanager
def redis_server() -> Iterator[str]:
    """Run Debian's ``redis-server`` on a free loopback port, nothing saved; yield its URL."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no"]  # fmt: skip
    with _service(command, lambda: _listens(port), "the redis-server start"):
        yield f"redis://127.0.0.1:{port}/0"


@contextmanager
def s3_server() -> Iterator[str]:
    """Run moto's S3 server in its own process on a free loopback port; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _service(
        command,
        lambda: _answers(f"{url}/moto-api/"),
        "the moto S3 server start",
        60,
        stderr=subprocess.DEVNULL,
    ):
        yield url


def postgres_bin() -> Path:
    """The newest PostgreSQL server's binaries Debian installed (``/usr/lib/postgresql/N/bin``)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise FileNotFoundError(
            "no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql "
            "(make test installs it)"
        )
    return Path(found[-1]).parent


@contextmanager
def postgres_server() -> Iterator[str]:
    """Run a throw-away PostgreSQL cluster on a free loopback port; yield its SQLAlchemy URL.

    PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user
    Debian's package creates and every server command runs as that user. Trust
    authentication, loopback only, no unix socket outside the cluster's own folder.
    """
    binaries, port = postgres_bin(), free_port()
    folder = Path(tempfile.mkdtemp(prefix="fansly-pg-"))
    user = "postgres" if os.geteuid() == 0 else None
    if user is not None:
        shutil.chown(folder, user, user)
    data = folder / "data"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, user=user, capture_output=True, text=True, check=True, timeout=120, cwd=folder
        )

    run(str(binaries / "initdb"), "-D", str(data), "-U", "airflow", "--auth=trust", "-E", "UTF8")
    server = [str(binaries / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
              "-k", str(folder), "-c", "max_connections=200", "-c", "fsync=off"]  # fmt: skip
    ready = [str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)]
    try:
        with _service(
            server,
            lambda: subprocess.run(ready, capture_output=True).returncode == 0,
            "the PostgreSQL start",
            60,
            stderr=subprocess.DEVNULL,
            user=user,
            cwd=folder,
        ):
            run(str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow",
                "airflow")  # fmt: skip
            yield f"postgresql+psycopg2://airflow@127.0.0.1:{port}/airflow"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _listens(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def _stop_group(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class AirflowStack:
    """An Airflow home with its own metadata database, ports and components.

    :param home: ``AIRFLOW_HOME`` (created; logs go to ``home/logs``).
    :param dags_folder: the DAG files the components see.
    :param env: extra environment: connections, Variables, ``FANSLY_*`` settings.
    :param broker: a Redis URL: run the CeleryExecutor (start workers with :meth:`worker`);
        without it, the LocalExecutor.
    :param database: a SQLAlchemy URL of the metadata database (and Celery's result backend);
        without it, a SQLite file in ``home``.
    :param users: user -> role (``admin``, ``viewer``...): login is required, each user gets
        a generated password (:attr:`passwords`), and the stack's own REST calls go as the
        first user. Without it every caller is an admin.
    """

    def __init__(
        self,
        home: Path,
        dags_folder: Path,
        env: dict[str, str],
        broker: str | None = None,
        users: dict[str, str] | None = None,
        database: str | None = None,
    ) -> None:
        self.home = home.resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "logs").mkdir(exist_ok=True)
        self.api_port = free_port()
        self.database = database or f"sqlite:///{self.home}/airflow.db?timeout=60"
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.env = {
            **os.environ,
            **env,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder.resolve()),
            # SQLite lets a writer wait 60 s for the lock (not 5): under load, components and the
            # CLI otherwise fail midway with "database is locked"
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database,
            **_executor(broker, self.database),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            **self._auth(users or {}),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "PYTHONWARNINGS": "ignore",
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self._names: dict[int, str] = {}
        self._token: str | None = None

    def _auth(self, users: dict[str, str]) -> dict[str, str]:
        """The simple auth manager's settings: users with generated passwords, or all admins."""
        self.passwords = {user: secrets.token_urlsafe(12) for user in users}
        if not users:
            return {"AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True"}
        (self.home / "passwords.json").write_text(json.dumps(self.passwords))
        return {
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{user}:{role}" for user, role in users.items()
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
        }

    def token(self, user: str) -> str:
        """A JWT for one of the stack's users, as ``POST /auth/token`` gives it."""
        body = {"username": user, "password": self.passwords[user]}
        answer = httpx.post(f"{self.url}/auth/token", json=body, timeout=30)
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def airflow(self, *args: str, timeout: float = 300, tries: int = 3) -> str:
        """Run one ``airflow`` CLI command to completion; raise with its output if it fails.

        A command that SQLite refused with "database is locked" (its transaction rolled back)
        runs again, at most ``tries`` times: under a running scheduler and workers it happens
        now and then (seen once in the Celery test's ``backfill create``).
        """
        for attempt in range(1, tries + 1):
            done = subprocess.run(
                [sys.executable, "-m", "airflow", *args],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            if done.returncode == 0:
                return done.stdout
            if "database is locked" not in done.stderr or attempt == tries:
                break
            time.sleep(5)
        raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stderr[-3000:]}")

    def prepare(self, pools: dict[str, int]) -> None:
        """Migrate the DB, create pools and register the DAGs (before components start)."""
        self.airflow("db", "migrate")
        for name, slots in pools.items():
            self.airflow("pools", "set", name, str(slots), f"{name} (set up by the stack)")
        self.airflow("dags", "reserialize")

    def backfill(self, dag_id: str, from_date: str, to_date: str, max_active_runs: int = 4) -> None:
        """Queue a backfill of ``[from_date, to_date]`` (both inclusive); the scheduler runs it."""
        self.airflow(
            "backfill",
            "create",
            "--dag-id",
            dag_id,
            "--from-date",
            from_date,
            "--to-date",
            to_date,
            "--max-active-runs",
            str(max_active_runs),
        )

    def _spawn(self, *args: str, log_name: str | None = None) -> None:
        # the child keeps its own copy of the log's descriptor; the parent closes its one
        name = log_name or args[0]
        with open(self.home / "logs" / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        self._names[proc.pid] = name

    def start(self, components: tuple[str, ...] = COMPONENTS) -> None:
        """Start the api-server, wait until it answers, then the other ``components``."""
        self._spawn("api-server", "--port", str(self.api_port))
        _wait(lambda: _answers(f"{self.url}/api/v2/monitor/health"), 120, "the api-server start")
        for component in components:
            self._spawn(component)

    def worker(self, name: str, concurrency: int = 2) -> None:
        """Start a Celery worker named ``name`` with its own log-server port."""
        self.env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(free_port())
        self._spawn(
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@%h",
            "--pid",
            str(self.home / f"{name}.pid"),
            "--concurrency",
            str(concurrency),
            log_name=f"worker-{name}",
        )

    def trigger(self, dag_id: str, logical_date: str) -> str:
        """Trigger a run with a logical date (ISO-8601) through the REST API; return its id."""
        body = {"logical_date": logical_date}
        answer = self._call("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        return str(answer["dag_run_id"])

    def get(self, path: str) -> Any:
        """GET one REST API path (``/api/v2/...``) and return its JSON."""
        return self._call("GET", path)

    def _call(self, method: str, path: str, body: Any = None, tries: int = 5) -> Any:
        """One REST call, tried again (at most ``tries`` times) on a 5xx: SQLite under load
        answers "database is locked" now and then."""
        if self.passwords and self._token is None:
            self._token = self.token(next(iter(self.passwords)))
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        answer = httpx.request(method, f"{self.url}{path}", json=body, headers=headers, timeout=30)
        for _ in range(tries - 1):
            if answer.status_code < 500:
                break
            time.sleep(2)
            answer = httpx.request(
                method, f"{self.url}{path}", json=body, headers=headers, timeout=30
            )
        answer.raise_for_status()
        return answer.json()

    def runs(self, dag_id: str, run_type: str | None = None) -> list[dict[str, Any]]:
        """Return the DAG's runs (of one type) from the REST API."""
        kind = f"&run_type={run_type}" if run_type else ""
        path = f"/api/v2/dags/{dag_id}/dagRuns?limit=1000{kind}"
        return list(self.get(path)["dag_runs"])

    def wait_for_runs(
        self,
        dag_id: str,
        expected: int,
        timeout: float,
        progress: Callable[[dict[str, int]], None] | None = None,
        run_type: str = "backfill",
    ) -> list[dict[str, Any]]:
        """Poll until ``expected`` runs of a type succeeded; raise on a failure or a timeout."""
        deadline = time.monotonic() + timeout
        last: dict[str, int] = {}
        while time.monotonic() < deadline:
            runs = self.runs(dag_id, run_type)
            states = {
                s: sum(r["state"] == s for r in runs)
                for s in ("success", "running", "queued", "failed")
            }
            if progress and states != last:
                progress(states)
            last = states
            if states["failed"]:
                raise RuntimeError(
                    f"{states['failed']} {run_type} run(s) of {dag_id} failed; "
                    f"see the task logs under {self.home / 'logs'}"
                )
            if states["success"] >= expected:
                return runs
            self._check_alive()
            time.sleep(1)
        raise TimeoutError(f"{dag_id}: {last} after {timeout:.0f} s, expected {expected} successes")

    def settled_runs(
        self, dag_id: str, run_type: str, settle: float, timeout: float = 180
    ) -> list[dict[str, Any]]:
        """The DAG's runs of a type once none is queued or running and none came for
        ``settle`` seconds (runs that other DAGs' events trigger come a little later)."""
        deadline, seen, quiet_since = time.monotonic() + timeout, -1, time.monotonic()
        while time.monotonic() < deadline:
            runs = self.runs(dag_id, run_type)
            if len(runs) != seen:
                seen, quiet_since = len(runs), time.monotonic()
            busy = any(r["state"] in ("queued", "running") for r in runs)
            if not busy and time.monotonic() - quiet_since > settle:
                return runs
            self._check_alive()
            time.sleep(1)
        raise TimeoutError(f"{dag_id}'s {run_type} runs did not settle: {seen} seen")

    def caught_up(
        self, consumer: str, producer: str, producer_run: str, timeout: float = 300
    ) -> list[dict]:
        """The consumer's asset-triggered runs once one of them judged the lake after the
        ``lake_updated`` event of ``producer_run``, and none is queued or running.

        Not "one run per event": Airflow 3.3 keeps one queue row per asset and consumer, so an
        event that lands while the scheduler creates a run for an earlier one is consumed by
        that run without being listed among its upstream events (when no later event comes,
        no later run lists it either). A run that started after the producer's run ended
        judged a lake that holds the update, so it counts too.
        """
        deadline, states = time.monotonic() + timeout, ""
        ended = self.get(f"/api/v2/dags/{producer}/dagRuns/{producer_run}")["end_date"]
        while time.monotonic() < deadline:
            runs = self.runs(consumer, "asset_triggered")
            states = " ".join(f"{r['dag_run_id']}:{r['state']}" for r in runs)
            if not any(r["state"] in ("queued", "running") for r in runs):
                sources = {e["source_run_id"] for r in runs for e in self.updates(consumer, r)}
                after = any((r["start_date"] or "") >= ended for r in runs)
                if producer_run in sources or after:
                    return runs
            self._check_alive()
            time.sleep(1)
        raise TimeoutError(f"{consumer} never consumed {producer_run}'s update: {states}")

    def updates(self, consumer: str, run: dict[str, Any]) -> list[dict[str, Any]]:
        """The ``lake_updated`` events one run of the consumer was triggered by."""
        path = f"/api/v2/dags/{consumer}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents"
        events = self.get(path)["asset_events"]
        return [e for e in events if e["source_task_id"] == "lake_updated"]

    def _check_alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                name = self._names[proc.pid]
                raise RuntimeError(
                    f"airflow {name} exited with {proc.returncode}; see "
                    f"{self.home / 'logs' / f'{name}.log'}"
                )

    def stop(self) -> None:
        """Stop every component by process group (workers included)."""
        for proc in reversed(self.procs):
            _stop_group(proc)
        self.procs.clear()

    def __enter__(self) -> AirflowStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _executor(broker: str | None, database: str) -> dict[str, str]:
    """The executor settings: Local, or Celery on ``broker`` with results in the metadata DB."""
    if broker is None:
        return {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database.split('?')[0]}",
    }


def connection_env(url: str, key: str, **extra: Any) -> str:
    """Return an ``AIRFLOW_CONN_*`` JSON value for a fansly connection."""
    return json.dumps({"conn_type": "fansly", "host": url, "password": key, "extra": extra})
