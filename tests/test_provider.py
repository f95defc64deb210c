"""The package registers with Airflow as a provider with a declarative ``fansly`` form."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points

from airflow_provider_fansly import get_provider_info


def test_entry_point_returns_provider_info_with_the_distribution_name() -> None:
    (ep,) = [
        e
        for e in entry_points(group="apache_airflow_provider")
        if e.value.startswith("airflow_provider_fansly")
    ]
    info = ep.load()()
    assert info == get_provider_info()
    assert info["package-name"] == "airflow-provider-fansly"
    (conn,) = info["connection-types"]
    assert conn["connection-type"] == "fansly"
    assert conn["hook-class-name"] == "airflow_provider_fansly.hooks.fansly.FanslyHook"
    assert {"timeout", "requests_per_minute", "max_retries", "max_requests"} <= set(
        conn["conn-fields"]
    )
    assert set(conn["ui-field-behaviour"]["hidden-fields"]) == {"schema", "port", "login"}


def test_airflow_providers_list_shows_it() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "-o", "plain"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "airflow-provider-fansly" in out.stdout


def test_the_hook_is_registered_for_the_connection_type() -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hooks = ProvidersManagerTaskRuntime().hooks
    assert hooks["fansly"] is not None
    assert hooks["fansly"].hook_class_name == "airflow_provider_fansly.hooks.fansly.FanslyHook"
