"""The "Fansly lake" button of a ``MediaStatsOperator`` task: the page, at its account and window.

Airflow computes the link in the worker when the task ends and keeps it in XCom, so it names
the window the task really fetched. The lake goes by its path, which the page accepts only
when it is a configured lake's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

__all__ = ["LakePageLink", "page_url"]

PERIOD_NAMES = {86_400_000: "daily", 3_600_000: "hourly"}


class LakePageLink(BaseOperatorLink):
    """Links a task to the Fansly page, filtered to its account and window."""

    name = "Fansly lake"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """``{api base_url}/fansly/?path=…&account=…&after=…&before=…&period=…``."""
        query: dict[str, Any] = {"account": getattr(operator, "account_id", "")}
        window = getattr(operator, "fetched_window", None)
        if window is not None:
            query["after"], query["before"] = window
        path, period = getattr(operator, "output_path", ""), getattr(operator, "period", 0)
        return page_url(path, period, **query)


def page_url(path: str, period: int, **query: Any) -> str:
    """The Fansly page at one lake (by its path) and period, narrowed by ``query``."""
    first = {"path": path, **query, "period": PERIOD_NAMES.get(period, "daily")}
    return f"{_base_url()}/fansly/?{urlencode(first)}"


def _base_url() -> str:
    """The api-server's public base URL, without a trailing slash ('' when unset)."""
    from airflow.configuration import conf

    return (conf.get("api", "base_url", fallback="") or "").rstrip("/")
