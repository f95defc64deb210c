"""The credit ledger: what every try of every task reserved and spent, failed tries included.

Before its first request a try appends a ``reserved`` entry with its estimate, then reads the
ledger *as of its own commit*: Delta's versions order the reservations, so of tasks starting
together the later ones see the earlier ones' estimates and no two pass the same check. When
the try ends, however it ends, it appends a ``spent`` entry with the requests it really sent
(429s and failed sends included: whether the vendor charges those is unknown, so they count).
A reservation never settled (a killed try) counts its estimate: the ledger errs on the side of
having spent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.exceptions import FanslyBudgetExceededError
from airflow_provider_fansly.storage.delta import CREDIT_LEDGER_TABLE, append, open_table, table_at
from airflow_provider_fansly.storage.location import Location

__all__ = [
    "Reservation",
    "month_of",
    "month_spend",
    "reserve",
    "settle",
    "spent_by_day",
    "spent_by_tier",
]

RESERVED, SPENT = "reserved", "spent"


def month_of(at: datetime) -> str:
    """The UTC month of an instant, as the ledger keys it (``YYYY-MM``)."""
    return at.astimezone(timezone.utc).strftime("%Y-%m")


@dataclass(frozen=True)
class Reservation:
    """One try's place in the ledger: who it is and what it reserved."""

    entry_id: str
    month: str
    account_id: str
    task: str
    run_id: str
    try_number: int
    estimate: int
    #: the planner's tier the try fetches for (``None``: not planned)
    tier: str | None = None


def _entry(
    reservation: Reservation, kind: str, requests: int, rate_limited: int, outcome: str
) -> pa.Table:
    now = datetime.now(timezone.utc)
    row = {
        "entry_id": reservation.entry_id,
        "kind": kind,
        "month": reservation.month,
        "at": now,
        "account_id": reservation.account_id,
        "task": reservation.task,
        "run_id": reservation.run_id,
        "try_number": reservation.try_number,
        "requests": requests,
        "rate_limited": rate_limited,
        "outcome": outcome,
        "tier": reservation.tier,
    }
    return pa.Table.from_pylist([row], schema=CREDIT_LEDGER_TABLE.schema)


def reserve(
    location: Location,
    *,
    account_id: str,
    task: str,
    run_id: str,
    try_number: int,
    estimate: int,
    monthly_credits: int | None,
    tier: str | None = None,
) -> Reservation:
    """Reserve ``estimate`` credits of this UTC month; refuse when the budget cannot hold them.

    The refusal names what the ledger holds as spent or reserved and what is left; its own
    reservation is released (settled at 0) before it is raised.
    """
    reservation = Reservation(
        uuid.uuid4().hex,
        month_of(datetime.now(timezone.utc)),
        account_id,
        task,
        run_id,
        try_number,
        estimate,
        tier,
    )
    version = append(
        location, CREDIT_LEDGER_TABLE, _entry(reservation, RESERVED, estimate, 0, "")
    ).version
    if monthly_credits is None:
        return reservation
    table = table_at(location, CREDIT_LEDGER_TABLE, version)
    others = _spent(table.to_pyarrow_table(), reservation.month) - estimate
    if others + estimate > monthly_credits:
        settle(location, reservation, 0, 0, "refused")
        left = max(0, monthly_credits - others)
        raise FanslyBudgetExceededError(
            f"this run needs {estimate} request(s) but the monthly budget (monthly_credits="
            f"{monthly_credits}) has {left} left in {reservation.month}: {others} spent or "
            "reserved by this lake's tasks (fansly-lake credits shows them); nothing was sent. "
            "Wait for the month to renew, raise monthly_credits with the plan, or shorten the "
            "window"
        )
    return reservation


def settle(
    location: Location, reservation: Reservation, sent: int, rate_limited: int, outcome: str
) -> None:
    """Record what a try really sent (its reservation then stops counting)."""
    append(location, CREDIT_LEDGER_TABLE, _entry(reservation, SPENT, sent, rate_limited, outcome))


def _counted(entries: pa.Table, month: str) -> pa.Table:
    """The entries that count as spent in a month: ``spent`` ones, and reservations of that
    month not settled yet (a killed try's estimate)."""
    entries = entries.filter(pc.equal(entries["month"], month))
    spent = entries.filter(pc.equal(entries["kind"], SPENT))
    open_ = entries.filter(
        pc.and_(
            pc.equal(entries["kind"], RESERVED),
            pc.invert(pc.is_in(entries["entry_id"], value_set=spent["entry_id"])),
        )
    )
    return pa.concat_tables([spent, open_])


def _spent(entries: pa.Table, month: str) -> int:
    """Credits the month's entries count as spent."""
    return _sum(_counted(entries, month))


def spent_by_day(location: Location, month: str) -> dict[date, int]:
    """Credits counted as spent in a UTC month, per UTC day an entry was written."""
    table = open_table(location, CREDIT_LEDGER_TABLE)
    if table is None:
        return {}
    counted = _counted(table.to_pyarrow_table(), month)
    days = pc.cast(counted["at"], pa.date32())
    grouped = pa.table({"day": days, "requests": counted["requests"]}).group_by("day")
    totals = grouped.aggregate([("requests", "sum")]).to_pylist()
    return {r["day"]: int(r["requests_sum"]) for r in sorted(totals, key=lambda r: r["day"])}


def spent_by_tier(location: Location, month: str) -> dict[str, int]:
    """Credits counted as spent in a UTC month per planner tier (``unplanned``: a task the
    planner did not plan, or written before 0.6)."""
    table = open_table(location, CREDIT_LEDGER_TABLE)
    if table is None:
        return {}
    counted = _counted(table.to_pyarrow_table(), month)
    if "tier" not in counted.column_names:
        return {"unplanned": _sum(counted)} if counted.num_rows else {}
    tiers = pc.fill_null(counted["tier"], "unplanned")
    grouped = pa.table({"tier": tiers, "requests": counted["requests"]}).group_by("tier")
    totals = grouped.aggregate([("requests", "sum")]).to_pylist()
    return {r["tier"]: int(r["requests_sum"]) for r in sorted(totals, key=lambda r: r["tier"])}


def _sum(entries: pa.Table) -> int:
    return int(pc.sum(entries["requests"]).as_py() or 0)


def month_spend(location: Location, month: str | None = None) -> int:
    """Requests this lake's tasks spent in a UTC month (``YYYY-MM``, default this month),
    failed tries included, plus what running tries reserved."""
    table = open_table(location, CREDIT_LEDGER_TABLE)
    if table is None:
        return 0
    return _spent(table.to_pyarrow_table(), month or month_of(datetime.now(timezone.utc)))
