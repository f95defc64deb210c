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
from typing import Annotated

import msgspec

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


class _Entry(msgspec.Struct, forbid_unknown_fields=True):
    """One entry of ``fansly_lakes`` as written (a misspelt key is refused, not ignored)."""

    path: str
    monthly_credits: Annotated[int, msgspec.Meta(ge=1)] | None = None
    accounts: dict[str, list[str]] | None = None
    dag_ids: dict[str, str] = {}
    conn_id: str = "fansly_default"


def parse_lakes(text: str | None, output_path: str | None, accounts: str | None) -> list[Lake]:
    """The lakes from the Variables' texts (``None``: not set); a bad entry is named, with
    the field that is wrong."""
    if text:
        try:
            entries = msgspec.json.decode(text, type=dict[str, msgspec.Raw])
        except msgspec.MsgspecError as error:
            raise FanslyInputError(
                f"Variable {LAKES_VARIABLE} is not a JSON object of lakes: {error}"
            ) from None
        if not entries:
            raise FanslyInputError(f"Variable {LAKES_VARIABLE} must be a non-empty JSON object")
        return [_lake(name, raw) for name, raw in entries.items()]
    if output_path:
        expected = json.loads(accounts) if accounts else None
        return [Lake("default", output_path, accounts=_accounts(expected))]
    return []


def _lake(name: str, raw: msgspec.Raw) -> Lake:
    """One entry of ``fansly_lakes``."""
    try:
        entry = msgspec.json.decode(raw, type=_Entry)
    except msgspec.ValidationError as error:
        raise FanslyInputError(f"Variable {LAKES_VARIABLE}, lake {name!r}: {error}") from None
    return Lake(
        name=name,
        path=entry.path,
        dag_ids={**DEFAULT_DAGS, **entry.dag_ids},
        monthly_credits=entry.monthly_credits,
        accounts=_accounts(entry.accounts),
        conn_id=entry.conn_id,
    )


def _accounts(accounts: Mapping[str, list[str]] | None) -> Mapping[str, tuple[str, ...]] | None:
    return {a: tuple(map(str, ids)) for a, ids in accounts.items()} if accounts else None


def load_lakes() -> list[Lake]:
    """The lakes configured now (Variables are read on each call: a change shows at once)."""
    from airflow.models.variable import Variable

    def get(key: str) -> str | None:
        return Variable.get(key, default_var=None)

    lakes = get(LAKES_VARIABLE)
    if lakes:
        return parse_lakes(lakes, None, None)
    return parse_lakes(None, get("fansly_output_path"), get("fansly_accounts"))
