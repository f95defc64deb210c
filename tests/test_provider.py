"""The package registers with Airflow as a provider with a declarative ``fansly`` form."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

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


def test_every_listed_module_imports_without_loading_the_data_path() -> None:
    """The dag-processor imports these for every DAG file: no delta-rs, polars or pandera."""
    info = get_provider_info()
    modules = [
        m for group in ("hooks", "operators") for i in info[group] for m in i["python-modules"]
    ]
    modules += [link.rsplit(".", 1)[0] for link in info["extra-links"]]
    modules.append("airflow_provider_fansly.plugins.registration")  # every component loads it
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "heavy = ('deltalake', 'polars', 'pandera', 'pyarrow', 'fastapi')\n"
        "print(sorted(n for n in heavy if n in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_plugin_and_the_operator_link_are_registered() -> None:
    (ep,) = [e for e in entry_points(group="airflow.plugins") if e.name == "fansly"]
    plugin = ep.load()()
    assert plugin.name == "fansly"
    (view,) = plugin.external_views
    assert (view["name"], view["destination"], view["href"]) == ("Fansly", "nav", "/fansly/")
    (app,) = plugin.fastapi_apps
    assert app["url_prefix"] == "/fansly"
    assert {route.path for route in app["app"].routes} >= {"/", "/api/coverage", "/api/gaps"}
    (link,) = get_provider_info()["extra-links"]
    module, name = link.rsplit(".", 1)
    assert getattr(importlib.import_module(module), name)().name == "Fansly lake"


#: What DAG files and the docs import, from the paths they are documented at.
PUBLIC = {
    "airflow_provider_fansly.hooks.fansly": ["FanslyHook", "RequestCounters"],
    "airflow_provider_fansly.hooks.lake": ["LakeHook", "lake_location"],
    "airflow_provider_fansly.operators": [
        "MediaStatsOperator", "MediaStatsQualityOperator", "MediaStatsUpdatedOperator",
        "LakeMaintenanceOperator", "batches", "parse_media_offer_ids",
    ],
    "airflow_provider_fansly.operators.media_stats": ["MediaStatsOperator"],
    "airflow_provider_fansly.operators.updated": ["MediaStatsUpdatedOperator"],
    "airflow_provider_fansly.operators.quality": ["MediaStatsQualityOperator"],
    "airflow_provider_fansly.operators.maintenance": ["LakeMaintenanceOperator"],
    "airflow_provider_fansly.ingest.summary": ["RunSummary"],
    "airflow_provider_fansly.assets": ["MEDIA_STATS", "MEDIA_STATS_UPDATED", "QUALITY_RESULTS"],
    "airflow_provider_fansly.client.windows": ["DAY_MS", "HOUR_MS", "to_epoch_ms", "split_window"],
    "airflow_provider_fansly.storage.rules": ["register_stat_type", "rows_schema", "STAT_TYPES"],
    "airflow_provider_fansly.client.reconcile": ["Question", "reconcile"],
    "airflow_provider_fansly.coverage": ["open_dataset", "coverage_gaps", "daily_totals"],
    "airflow_provider_fansly.credits": ["backfill_cost", "credits_spent"],
    "airflow_provider_fansly.quality": ["Freshness", "Finding", "run_checks"],
    "airflow_provider_fansly.testing.synthetic": ["expected_rows"],
    "airflow_provider_fansly.testing.emulator": ["Emulator", "EmulatorConfig", "main"],
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_keep_their_import_paths(module: str) -> None:
    loaded = importlib.import_module(module)
    missing = [name for name in PUBLIC[module] if not hasattr(loaded, name)]
    assert not missing, f"{module} no longer has {missing}"


#: 0.5's paths: each name still imports, the same object, with a warning naming its new home.
P = "airflow_provider_fansly."
DEPRECATED = {
    (P + "operators.media_stats", "batches"): P + "operators",
    (P + "operators.media_stats", "parse_media_offer_ids"): P + "operators",
    (P + "operators.media_stats", "RunSummary"): P + "ingest.summary",
    (P + "windows", "DAY_MS"): P + "client.windows",
    (P + "windows", "split_window"): P + "client.windows",
    (P + "reconcile", "reconcile"): P + "client.reconcile",
    (P + "schemas", "register_stat_type"): P + "storage.rules",
    (P + "hooks.fansly", "HookSettings"): P + "client.settings",
}


@pytest.mark.parametrize(("old", "new"), DEPRECATED.items(), ids=[".".join(k) for k in DEPRECATED])
def test_old_paths_warn_until_0_7_and_hand_out_the_same_object(
    old: tuple[str, str], new: str
) -> None:
    from airflow.exceptions import AirflowProviderDeprecationWarning

    module, name = old
    with pytest.warns(AirflowProviderDeprecationWarning, match=r"removed in .* 0\.7") as caught:
        value = getattr(importlib.import_module(module), name)
    assert f"import it from {new}" in str(caught[0].message)
    replacement = importlib.import_module(new)
    expected = getattr(replacement, "ClientSettings" if name == "HookSettings" else name)
    assert value is expected


def test_the_hook_keeps_its_public_methods() -> None:
    from airflow_provider_fansly.hooks.fansly import FanslyHook

    hook = FanslyHook("fansly_default")
    for name in ("get_media_stats", "aget_media_stats", "list_accounts", "test_connection",
                 "close", "aclose", "get_conn"):  # fmt: skip
        assert callable(getattr(hook, name)), name
    assert hook.counters.requests == 0 and hook.datapoint_limit == 100
