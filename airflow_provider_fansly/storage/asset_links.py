"""Who makes a lake's first asset event, so that no two tasks make it at once.

Airflow records an alias's first event for an asset (creating the asset, linking it to the
alias) without guarding against a second task doing the same at the same moment, and marks
one of them failed after it succeeded. The daily, hourly and agency DAGs write one lake, so
their first runs can meet there. The lake settles it, the way the credit ledger orders
reservations: a task that would make the first event appends a ``claim`` and reads the table
as of its own commit; it makes the event only when no live claim was committed before its
own. Once Airflow has recorded that event, the task appends ``linked`` (from its success
callback), and every task emits freely from then on. A claim whose task never got that far
lapses after :data:`CLAIM_TTL`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable

from airflow_provider_fansly.storage.delta import ASSET_LINKS_TABLE, append, open_table, table_at
from airflow_provider_fansly.storage.location import Location

__all__ = ["CLAIM", "CLAIM_TTL", "LINKED", "claim", "is_linked", "record_linked"]

CLAIM, LINKED = "claim", "linked"
#: A claim older than this, with no ``linked`` after it, belonged to a task that died.
CLAIM_TTL = timedelta(hours=1)


def _row(asset_uri: str, kind: str, claimant: str) -> pa.Table:
    row = {
        "asset_uri": asset_uri,
        "kind": kind,
        "claimant": claimant,
        "at": datetime.now(timezone.utc),
    }
    return pa.Table.from_pylist([row], schema=ASSET_LINKS_TABLE.schema)


def _entries(table: DeltaTable, asset_uri: str) -> pa.Table:
    rows = table.to_pyarrow_table()
    return rows.filter(pc.equal(rows["asset_uri"], asset_uri))


def _linked(entries: pa.Table) -> bool:
    return bool(pc.any(pc.equal(entries["kind"], LINKED)).as_py())


def is_linked(location: Location, asset_uri: str) -> bool:
    """Whether Airflow has recorded an event for this asset through the lake's aliases."""
    table = open_table(location, ASSET_LINKS_TABLE)
    if table is None:
        return False
    return _linked(_entries(table, asset_uri))


def claim(location: Location, asset_uri: str, claimant: str) -> bool:
    """Claim the asset's first event; return whether this claim won (committed first)."""
    version = append(location, ASSET_LINKS_TABLE, _row(asset_uri, CLAIM, claimant)).version
    table = table_at(location, ASSET_LINKS_TABLE, version)
    entries = _entries(table, asset_uri)
    if _linked(entries):
        return False  # made meanwhile: nothing to claim
    live = pa.scalar(datetime.now(timezone.utc) - CLAIM_TTL, entries["at"].type)
    claims = entries.filter(
        pc.and_(pc.equal(entries["kind"], CLAIM), pc.greater_equal(entries["at"], live))
    )
    others = pc.invert(pc.equal(claims["claimant"], claimant))
    return not pc.any(others).as_py()


def record_linked(location: Location, asset_uri: str, claimant: str) -> None:
    """Record that Airflow holds the asset's first event (call it once that is so)."""
    append(location, ASSET_LINKS_TABLE, _row(asset_uri, LINKED, claimant))
