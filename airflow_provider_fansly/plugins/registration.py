"""The Airflow plugin: the page's FastAPI app under ``/fansly`` and a "Fansly" nav entry.

Airflow finds :class:`FanslyPlugin` through the ``airflow.plugins`` entry point. The app is
built only when the api-server asks for it, so workers and the dag-processor, which load
plugins too, never import FastAPI or the lake readers for it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from airflow.plugins_manager import AirflowPlugin

__all__ = ["FanslyPlugin"]


@cache
def _app() -> Any:
    from airflow_provider_fansly.plugins.app import create_app

    return create_app()


class FanslyPlugin(AirflowPlugin):
    """Registers the page, its nav entry and the operator's link to it."""

    name = "fansly"
    external_views = [  # noqa: RUF012 - AirflowPlugin declares these as class lists
        {
            "name": "Fansly",
            "href": "/fansly/",
            "destination": "nav",
            "url_route": "fansly",
        }
    ]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The app, mounted at ``/fansly`` by the api-server."""
        return [{"app": _app(), "url_prefix": "/fansly", "name": "Fansly lake"}]
