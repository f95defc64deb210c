"""Apache Airflow provider for the Fansly media-statistics API.

Airflow discovers it through the ``apache_airflow_provider`` entry point, which calls
:func:`get_provider_info`; nothing here imports Airflow, so discovery stays cheap.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

__all__ = ["__version__", "get_provider_info"]

try:
    __version__ = version("airflow-provider-fansly")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0"


def _conn_field(label: str, description: str, kind: str, secret: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [kind, "null"]}
    if secret:
        schema["format"] = "password"
    return {"label": label, "description": description, "schema": schema}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider, its hook and the ``fansly`` connection form to Airflow."""
    return {
        "package-name": "airflow-provider-fansly",
        "name": "Fansly",
        "description": "Fansly media statistics: a hook, operators and a Delta Lake data lake.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Fansly",
                "external-doc-url": "https://docs.apifansly.com",
                "tags": ["service"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Fansly",
                "python-modules": [
                    "airflow_provider_fansly.hooks.fansly",
                    "airflow_provider_fansly.hooks.lake",
                ],
            }
        ],
        "operators": [
            {
                "integration-name": "Fansly",
                "python-modules": [
                    "airflow_provider_fansly.operators.media_stats",
                    "airflow_provider_fansly.operators.planned",
                    "airflow_provider_fansly.operators.updated",
                    "airflow_provider_fansly.operators.quality",
                    "airflow_provider_fansly.operators.maintenance",
                ],
            }
        ],
        "extra-links": ["airflow_provider_fansly.links.fansly.LakePageLink"],
        "connection-types": [_fansly_connection_type()],
    }


def _fansly_connection_type() -> dict[str, Any]:
    """The ``fansly`` connection form, declared (Airflow 3.2+): hidden and relabelled fields,
    and the extras a hook reads, each with its label and type."""
    return {
        "hook-class-name": "airflow_provider_fansly.hooks.fansly.FanslyHook",
        "connection-type": "fansly",
        "ui-field-behaviour": {
            "hidden-fields": ["schema", "port", "login"],
            "relabeling": {"host": "Base URL", "password": "API key"},
            "placeholders": {
                "host": "https://v1.apifansly.com",
                "password": "your x-api-key",
            },
        },
        "conn-fields": {
            "timeout": _conn_field("Timeout (s)", "Seconds to wait for one answer.", "number"),
            "requests_per_minute": _conn_field(
                "Requests per minute",
                "This client's share of the plan's limit (600 Starter, 1,000 Pro). "
                "Empty: learn it from X-RateLimit-Limit.",
                "integer",
            ),
            "monthly_credits": _conn_field(
                "Monthly credits",
                "The key's monthly plan; a run that would exceed it is refused before "
                "any request. Split it between lakes that share the key.",
                "integer",
            ),
            "max_rate_limit_wait": _conn_field(
                "Max 429 wait (s)",
                "How long one request waits out 429s before the task fails.",
                "number",
            ),
            "max_retries": _conn_field(
                "Max retries", "Retries of one request after a passing failure.", "integer"
            ),
            "max_requests": _conn_field(
                "Max requests per task",
                "Credit budget: a task that would send more stops first.",
                "integer",
            ),
        },
    }
