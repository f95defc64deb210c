"""Which lakes the page shows: the ``fansly_lakes`` Variable, else ``fansly_output_path``.

``fansly_lakes`` is a JSON object, one entry per lake, the first one the default::

    {"main": {"path": "s3://aws_default@bucket/fansly", "monthly_credits": 100000,
              "dag_ids": {"daily": "fansly_media_stats_daily"},
              "accounts": {"acct": ["m1", "m2"]}}}

Only ``path`` is required; ``dag_ids`` names, per period (``daily``, ``hourly``), the DAG the
page's command runs for a gap (by default the example DAGs). Without the Variable, the
example DAGs' ``fansly_output_path`` is the one lake, named ``default``, expecting
``fansly_accounts`` when that is set. A lake's
budget is its ``monthly_credits``, else the one of its connection (``conn_id``, default
``fansly_default``). The browser names a lake, never a path the server would open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_fansly.exceptions import FanslyInputError

__all__ = ["LAKES_VARIABLE", "Lake", "load_lakes", "parse_lakes"]

LAKES_VARIABLE = "fansly_lakes"
DEFAULT_DAGS = {"daily": "fansly_media_stats_daily", "hourly": "fansly_media_stats_hourly"}


@dataclass(frozen=True)
class Lake:
    """One configured lake: where it is and what to expect of it."""

    name: str
    path: str
    dag_ids: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DAGS))
    monthly_credits: int | None = None
    accounts: Mapping[str, tuple[str, ...]] | None = None
    conn_id: str = "fansly_default"

    def budget(self) -> int | None:
        """The monthly budget: the lake's own, else its connection's ``monthly_credits``."""
        if self.monthly_credits is not None:
            return self.monthly_credits
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models.connection import Connection

        from airflow_provider_fansly.client.settings import ClientSettings

        try:
            conn = Connection.get_connection_from_secrets(self.conn_id)
        except AirflowNotFoundException:
            return None
        return ClientSettings.from_connection(conn.host, "", conn.extra_dejson).monthly_credits


def parse_lakes(text: str | None, output_path: str | None, accounts: str | None) -> list[Lake]:
    """The lakes from the Variables' texts (``None``: not set); a bad entry is named."""
    if text:
        try:
            entries = json.loads(text)
        except ValueError as error:
            raise FanslyInputError(f"Variable {LAKES_VARIABLE} is not JSON: {error}") from None
        if not isinstance(entries, dict) or not entries:
            raise FanslyInputError(f"Variable {LAKES_VARIABLE} must be a non-empty JSON object")
        return [_lake(str(name), entry) for name, entry in entries.items()]
    if output_path:
        expected = json.loads(accounts) if accounts else None
        return [_lake("default", {"path": output_path, "accounts": expected})]
    return []


def _lake(name: str, entry: Any) -> Lake:
    """One entry of ``fansly_lakes``."""
    where = f"Variable {LAKES_VARIABLE}, lake {name!r}"
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise FanslyInputError(f"{where}: needs a 'path' string")
    budget = entry.get("monthly_credits")
    if budget is not None and (not isinstance(budget, int) or budget < 1):
        raise FanslyInputError(f"{where}: monthly_credits must be a whole number of at least 1")
    accounts = entry.get("accounts")
    if accounts is not None and not (
        isinstance(accounts, dict) and all(isinstance(v, list) for v in accounts.values())
    ):
        raise FanslyInputError(f"{where}: accounts must map each account to a list of ids")
    return Lake(
        name=name,
        path=entry["path"],
        dag_ids={**DEFAULT_DAGS, **entry.get("dag_ids", {})},
        monthly_credits=budget,
        accounts={a: tuple(map(str, ids)) for a, ids in accounts.items()} if accounts else None,
        conn_id=entry.get("conn_id", "fansly_default"),
    )


def load_lakes() -> list[Lake]:
    """The lakes configured now (Variables are read on each call: a change shows at once)."""
    from airflow.models.variable import Variable

    def get(key: str) -> str | None:
        return Variable.get(key, default_var=None)

    lakes = get(LAKES_VARIABLE)
    if lakes:
        return parse_lakes(lakes, None, None)
    return parse_lakes(None, get("fansly_output_path"), get("fansly_accounts"))
