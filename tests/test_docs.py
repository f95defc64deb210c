"""The quickstart as a new user follows it: a wheel built here, a fresh venv, its commands.

The wheel is installed into a new virtualenv pinned by the lock file (as Airflow's constraints
file pins an image), and the quickstart's shell and Python blocks run there as written, with
only the capitals replaced: the emulator's URL and key, an account, media offers and a lake.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY, Emulator
from tests.conftest import ROOT, connection_json
from tests.lake import lake_rows, truth

QUICKSTART = ROOT / "docs" / "quickstart.md"
# `uv run` (what `make test` uses) names its own binary in $UV
UV = [os.environ.get("UV") or shutil.which("uv") or "uv"]
D0 = 1_772_841_600_000  # 2026-03-07T00:00Z, the first day the quickstart's run fetches


def _blocks(kind: str, section: str) -> list[str]:
    """The fenced ``kind`` blocks of one ``## section`` of the quickstart."""
    text = QUICKSTART.read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{kind}\n(.*?)```", body, flags=re.S)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtualenv with nothing but the wheel built from this checkout and its deps."""
    work = tmp_path_factory.mktemp("wheel")
    run = {"check": True, "capture_output": True, "timeout": 600, "cwd": ROOT}
    subprocess.run([*UV, "build", "--wheel", "--out-dir", str(work), "-q"], **run)
    subprocess.run(
        [*UV, "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project", "-q",
         "-o", str(work / "constraints.txt")],
        **run,
    )  # fmt: skip
    subprocess.run([*UV, "venv", "-q", "--python", sys.executable, str(work / "venv")], **run)
    return work


def _install_line(venv: Path) -> str:
    """What ``pip install "airflow-provider-fansly[...]"`` becomes: the wheel, pinned."""
    (wheel,) = venv.glob("*.whl")
    python, constraints = venv / "venv" / "bin" / "python", venv / "constraints.txt"
    return (
        f"{UV[0]} pip install -q --python {python} -c {constraints} "
        f'"airflow-provider-fansly\\1 @ {wheel.as_uri()}"'
    )


def test_the_quickstart_runs_from_a_wheel_against_the_emulator(
    venv: Path, emu: Emulator, tmp_path: Path
) -> None:
    install = _blocks("bash", "Install into your Airflow")
    first_run = _blocks("bash", "Your first run")
    (python_block,) = _blocks("python", "Your first run")
    assert install and first_run
    lake, home, checkout = tmp_path / "lake", tmp_path / "home", tmp_path / "checkout"
    (home / "dags").mkdir(parents=True)
    shutil.copytree(ROOT / "dags", checkout / "dags")  # only the DAGs: no package to shadow
    # a scratch Airflow home needs `airflow db migrate` first, as the quickstart says
    migrate = "airflow db migrate > /dev/null"
    script = "\n".join([*install, migrate, *first_run, f"python - <<'PY'\n{python_block}PY\n"])
    script = re.sub(
        r'pip install "airflow-provider-fansly(\[[a-z0-9,]+\])?"', _install_line(venv), script
    )
    for capital, value in {
        "https://v1.apifansly.com": emu.url,
        "YOUR_API_KEY": DEFAULT_KEY,
        "YOUR_ACCOUNT_ID": DEFAULT_ACCOUNT,
        "MEDIA_OFFER_1": "q1",
        "MEDIA_OFFER_2": "q2",
        "/data/fansly": str(lake),
    }.items():
        assert capital in script, f"the quickstart no longer shows {capital}"
        script = script.replace(capital, value)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW", "VIRTUAL_ENV")) and key != "PYTHONPATH"
    }
    env.update(
        PATH=f"{venv / 'venv' / 'bin'}:{env['PATH']}",
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONWARNINGS="ignore",
    )
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert re.search(r"airflow-provider-fansly\s*\|.*\|\s*0\.\d+\.\d+", done.stdout)
    assert "(True, 'Connected: the key sees" in done.stdout
    # the documented run fetched [03-07, 03-10) for both media offers, from the wheel's code
    assert lake_rows(lake) == truth(DEFAULT_ACCOUNT, ["q1", "q2"], D0, D0 + 3 * DAY_MS, DAY_MS)
    assert "run_id=manual__" in done.stdout  # fansly-lake history lists the run's commits
    site = json.loads(
        subprocess.run(
            [str(venv / "venv" / "bin" / "python"), "-c",
             "import json, airflow_provider_fansly as p; print(json.dumps(p.__file__))"],
            capture_output=True, text=True, check=True, env=env, timeout=60, cwd=checkout,
        ).stdout
    )  # fmt: skip
    assert str(venv / "venv") in site  # the code that ran is the wheel's, not this checkout


#: Fails any import of Airflow in the process it is prepended to.
_NO_AIRFLOW = """
import sys

class _NoAirflow:
    def find_spec(self, name, path=None, target=None):
        if name == "airflow" or name.startswith("airflow."):
            raise ImportError(f"{name}: the client must work without Airflow")

sys.meta_path.insert(0, _NoAirflow())
"""


def test_the_client_alone_fetches_a_window_without_airflow(emu: Emulator) -> None:
    """docs/architecture.md's script, with Airflow unimportable, gets the emulator's buckets."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", text.split("## The client alone\n", 1)[1], re.S)
    assert "http://127.0.0.1:8765" in block
    script = _NO_AIRFLOW + block.replace("http://127.0.0.1:8765", emu.url)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    after, before = (int(n.replace("_", "")) for n in re.findall(r"\d[\d_]{9,}", block))
    buckets = {row[1] for row in truth(DEFAULT_ACCOUNT, ["m1"], after, before, DAY_MS)}
    assert buckets, "the documented window has no stats in the emulator"
    assert done.stdout.strip() == f"{len(buckets)} buckets with stats, 1 request(s)"
    assert emu.state.counts["served"] == 1


#: Where a block is run by a test of its own.
_RUN_ELSEWHERE = {
    "quickstart.md": "test_the_quickstart_runs_from_a_wheel_against_the_emulator",
    "architecture.md": "test_the_client_alone_fetches_a_window_without_airflow",
}


def _doc_blocks() -> list[tuple[str, int, str, str, str | None]]:
    """Every fenced block of docs/ and the README: (file, line, language, body, why not run)."""
    found = []
    for path in [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]:
        text = path.read_text()
        pattern = r"(?:<!-- not run: (?P<why>[^>]*?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```"
        for match in re.finditer(pattern, text, flags=re.S):
            line = text[: match.start("lang")].count("\n") + 1
            found.append((path.name, line, match["lang"], match["body"], match["why"]))
    return found


def test_every_code_block_of_the_docs_parses() -> None:
    """Python compiles, shell passes ``bash -n``, JSON loads: no block is a syntax error."""
    broken = []
    for name, line, lang, body, _ in _doc_blocks():
        where = f"{name}:{line} ({lang})"
        if lang == "python":
            try:
                compile(body, where, "exec")
            except SyntaxError as error:
                broken.append(f"{where}: {error}")
        elif lang == "bash":
            done = subprocess.run(["bash", "-n"], input=body, capture_output=True, text=True)
            if done.returncode:
                broken.append(f"{where}: {done.stderr.strip()}")
        elif lang == "json":
            try:
                json.loads(body)
            except ValueError as error:
                broken.append(f"{where}: {error}")
    assert not broken, "\n".join(broken)


@pytest.fixture(scope="module")
def doc_lake(tmp_path_factory: pytest.TempPathFactory, emulator_server: Emulator) -> Path:
    """A folder holding ``lake/``, two days of the emulator's data, for the reading recipes."""
    from airflow_provider_fansly.operators.media_stats import MediaStatsOperator

    folder = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_FANSLY_DEFAULT", connection_json(emulator_server.url))
        MediaStatsOperator(
            task_id="docs",
            account_id=DEFAULT_ACCOUNT,
            media_offer_ids=["m1", "m2"],
            output_path=str(folder / "lake"),
            after_date=D0,
            before_date=D0 + 2 * DAY_MS,
        ).execute({})  # type: ignore[arg-type]
    return folder


@pytest.mark.parametrize(
    "block",
    [b for b in _doc_blocks() if b[2] == "python" and b[0] not in _RUN_ELSEWHERE],
    ids=lambda b: f"{b[0]}:{b[1]}",
)
def test_every_runnable_python_block_of_the_docs_runs(
    block: tuple[str, int, str, str, str | None], doc_lake: Path, emu: Emulator
) -> None:
    """Each block as a user pastes it, against the emulator and a small lake; the few that
    cannot run here say why (``<!-- not run: ... -->`` before them)."""
    name, line, _, body, why = block
    if why is not None:
        assert len(why) > 10, f"{name}:{line} says too little of why it is not run"
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN")}
    env["AIRFLOW_CONN_FANSLY_DEFAULT"] = connection_json(emu.url)
    done = subprocess.run(
        [sys.executable, "-c", body],
        cwd=doc_lake,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"{name}:{line}\n{done.stderr[-3000:]}"


def _parameters(cls: type) -> list[str]:
    import inspect

    signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    return [p for p in signature.parameters if p not in ("self", "kwargs")]


@pytest.mark.parametrize(
    ("module", "name", "page"),
    [
        ("media_stats", "MediaStatsOperator", "operator.md"),
        ("updated", "MediaStatsUpdatedOperator", "operator.md"),
        ("maintenance", "LakeMaintenanceOperator", "operator.md"),
        ("quality", "MediaStatsQualityOperator", "data-quality.md"),
        ("planned", "MediaStatsPlanOperator", "planning.md"),
    ],
)
def test_every_operator_parameter_is_in_the_reference(module: str, name: str, page: str) -> None:
    import importlib

    cls = getattr(importlib.import_module(f"airflow_provider_fansly.operators.{module}"), name)
    text = (ROOT / "docs" / page).read_text()
    missing = [p for p in _parameters(cls) if f"`{p}`" not in text and f"{p}=" not in text]
    assert not missing, f"{name} parameters missing from docs/{page}: {missing}"


def test_every_connection_extra_is_in_the_reference() -> None:
    from dataclasses import fields

    from airflow_provider_fansly import get_provider_info
    from airflow_provider_fansly.client.settings import ClientSettings

    text = (ROOT / "docs" / "connection.md").read_text()
    extras = [f.name for f in fields(ClientSettings) if f.name not in ("base_url", "api_key")]
    assert extras and not [e for e in extras if f"| `{e}` | extra |" not in text]
    (conn,) = get_provider_info()["connection-types"]
    labels = [field["label"] for field in conn["conn-fields"].values()]
    assert not [label for label in labels if f"*{label}*" not in text]


def _read_by_the_code() -> tuple[set[str], set[str]]:
    """The Variables and ``FANSLY_*`` settings the shipped DAG files and the provider read."""
    from airflow_provider_fansly.notifications.quality import VARIABLE
    from airflow_provider_fansly.plugins.lakes import LAKES_VARIABLE

    dags = "".join(p.read_text() for p in sorted((ROOT / "dags").glob("*.py")))
    variables = set(re.findall(r"var\.(?:value|json)\.(?:get\(['\"])?(\w+)", dags))
    settings = set(re.findall(r"os\.environ\.get\(\"(FANSLY_\w+)\"", dags))
    return variables | {VARIABLE, LAKES_VARIABLE}, settings


def test_the_helm_values_of_the_deployment_docs_are_what_the_code_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The YAML parses; every Variable, connection and setting it gives a component is one
    the DAG files or the provider read, and the lake path parses as the tasks parse it, with
    the documented connection and credentials from the environment (as IRSA gives them)."""
    import yaml

    from airflow_provider_fansly.hooks.lake import LakeHook

    (values,) = [
        yaml.safe_load(body)
        for name, _, lang, body, _ in _doc_blocks()
        if name == "deployment.md" and lang == "yaml"
    ]
    assert values["executor"] == "KubernetesExecutor"
    env = {e["name"]: e["value"] for e in values["env"]}
    env.update({s["envName"]: s["secretName"] for s in values["secret"]})
    variables, settings = _read_by_the_code()
    named = {n.removeprefix("AIRFLOW_VAR_").lower() for n in env if n.startswith("AIRFLOW_VAR_")}
    assert named <= variables, named - variables
    assert {n for n in env if n.startswith("FANSLY_")} <= settings
    assert {"fansly_output_path", "fansly_account_id", "fansly_media_offer_ids"} <= named
    keys = {
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in {**env, **keys}.items():
        if not name.startswith("AIRFLOW_CONN_FANSLY"):
            monkeypatch.setenv(name, value)
    lake = LakeHook(env["AIRFLOW_VAR_FANSLY_OUTPUT_PATH"]).get_conn()
    assert lake.storage_options["AWS_REGION"] == "eu-west-1"
    connections = {n.removeprefix("AIRFLOW_CONN_").lower() for n in env if "_CONN_" in n}
    assert connections == {"fansly_default", lake.conn_id}
    assert json.loads(env["AIRFLOW_VAR_FANSLY_ALERTS"])["to"]
    assert isinstance(json.loads(env["AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS"]), list)
    # the memory asked for covers the largest task peak performance.md measured (MiB)
    peaks = re.findall(r"([\d,]+) MiB peak", (ROOT / "docs" / "performance.md").read_text())
    limit = values["workers"]["resources"]["limits"]["memory"]
    assert limit.endswith("Gi") and int(limit[:-2]) * 1024 >= max(
        int(p.replace(",", "")) for p in peaks
    )
