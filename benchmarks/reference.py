"""The reference lake of agency scale, written by a synthetic writer, not through the API.

20 accounts of 500 media offers each (10,000), three years of daily data and the last 90 days
hourly, laid out as the daily DAGs and weekly maintenance leave a lake: every day older than
the lookback in one file (compacted), the last ``RECENT`` days in one file per batch of 100
media offers, as the tasks wrote them; a fetch log row per media offer and day fetched; each
media offer's metadata. Media offers are posted over the three years (a post has no data
before its day) and 5% are deleted later (no data after, a ``gone`` row the day it was found).

The numbers are the emulator's own (``testing.synthetic``) for ``TEMPLATES`` media offers of
the first account, copied onto the others: those first ones are the emulator's media offers
themselves, so :func:`check_slice` fetches a few of them through the operator from the
emulator and compares row by row.

    python -m benchmarks.reference PATH [--scale 0.1] [--history-days N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DAY = 86_400_000
HOUR = 3_600_000
END = date(2026, 11, 1)  # exclusive: the day after the lake's last day
TEMPLATES = 100
RECENT = 3  # the lookback: days still re-fetched, one file per batch
BATCH = 100
HOURLY_DAYS = 90
#: Bump when what the writer writes changes: a lake built by an older writer is built again.
FORMAT = 1


def _ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), timezone.utc).timestamp() * 1000)


def _unit(*parts: object) -> float:
    """A stable number in [0, 1) from ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class Shape:
    """How big a reference lake is."""

    accounts: int = 20
    per_account: int = 500
    daily_days: int = 1095
    hourly_days: int = HOURLY_DAYS

    @property
    def first(self) -> date:
        return END - timedelta(days=self.daily_days)

    def describe(self) -> str:
        return (
            f"{self.accounts * self.per_account:,} media offers of {self.accounts} accounts, "
            f"{self.daily_days} days daily, the last {self.hourly_days} hourly"
        )


class Offers:
    """Every media offer of the lake: its ids, template, first and last day (indexes)."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        count = shape.accounts * shape.per_account
        index = np.arange(count)
        account = index // shape.per_account
        from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT

        names = [DEFAULT_ACCOUNT, *(f"agency_{a:02d}" for a in range(1, shape.accounts))]
        self.accounts = np.array([names[a] for a in account], dtype=object)
        self.media = np.array([f"{1_000_000_000_000 + i}" for i in index], dtype=object)
        self.template = index % TEMPLATES
        span = shape.daily_days
        self.born = np.array([0 if i < TEMPLATES else int(_unit("born", i) * (span - 30))
                              for i in index])  # fmt: skip
        deleted = np.array([i >= TEMPLATES and _unit("gone", i) < 0.05 for i in index])
        lives = np.array([30 + int(_unit("life", i) * span) for i in index])
        self.gone = np.where(deleted, np.minimum(self.born + lives, span + 1), span + 1)

    def alive(self, day: int) -> np.ndarray:
        """The media offers (indexes) with data on day ``day`` (0 = the lake's first)."""
        return np.flatnonzero((self.born <= day) & (day < self.gone))


class Templates:
    """The emulator's rows of the template media offers, by period, sorted by day."""

    def __init__(self, offers: Offers) -> None:
        self.offers = offers

    @cached_property
    def by_period(self) -> dict[int, tuple[pa.Table, np.ndarray]]:
        from airflow_provider_fansly.testing.synthetic import expected_rows

        shape = self.offers.shape
        spans = {
            DAY: (shape.first, END),
            HOUR: (END - timedelta(days=shape.hourly_days), END),
        }
        built = {}
        for period, (first, end) in spans.items():
            rows = []
            for k in range(TEMPLATES):
                account, media = self.offers.accounts[k], self.offers.media[k]
                for r in expected_rows(account, media, _ms(first), _ms(end), period):
                    r["t"] = k
                    r["d"] = (r["bucket_start_ms"] - _ms(shape.first)) // DAY
                    rows.append(r)
            table = _rows_table(rows).sort_by([("d", "ascending"), ("t", "ascending")])
            days = table["d"].to_numpy()
            starts = np.searchsorted(days, np.arange(shape.daily_days + 1))
            built[period] = (table, starts)
        return built

    def day(self, period: int, day: int, offers: np.ndarray) -> tuple[pa.Table, np.ndarray]:
        """Every row of ``offers`` on day ``day``; and the offer (index) of each row."""
        table, starts = self.by_period[period]
        rows = table.slice(starts[day], starts[day + 1] - starts[day])
        template = rows["t"].to_numpy()
        takes, owners = [], []
        for k in np.unique(template):
            mine = np.flatnonzero(template == k)
            holders = offers[self.offers.template[offers] == k]
            takes.append(np.tile(mine, len(holders)))
            owners.append(np.repeat(holders, len(mine)))
        if not takes:
            return rows.slice(0, 0), np.array([], dtype=np.int64)
        take, owner = np.concatenate(takes), np.concatenate(owners)
        order = np.lexsort((take, owner))  # by media offer, then the template's row order
        return rows.take(pa.array(take[order])), owner[order]


def _rows_table(rows: list[dict[str, Any]]) -> pa.Table:
    from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA

    names = {k for r in rows[:1] for k in r} | {"video_views", "preview_video_views",
             "video_percent_watched_total", "preview_video_percent_watched_total"}  # fmt: skip
    plain = pa.Table.from_pylist(rows, schema=pa.schema(
        [(n, pa.string() if n.endswith("_id") else pa.float64() if "percent" in n
          else pa.int64()) for n in sorted(names)]))  # fmt: skip
    columns: dict[str, pa.Array] = {}
    stamp = pc.multiply(plain["bucket_start_ms"], 1000).cast(pa.timestamp("us", tz="UTC"))
    for field in MEDIA_STATS_SCHEMA:
        if field.name == "bucket_start":
            columns[field.name] = stamp
        elif field.name == "fetched_at":
            columns[field.name] = stamp  # replaced per day
        elif field.name == "dt":
            columns[field.name] = stamp.cast(pa.date32())
        elif field.name in plain.column_names:
            columns[field.name] = plain[field.name].cast(field.type)
        else:
            columns[field.name] = pa.nulls(plain.num_rows, field.type)
    columns["period_ms"] = pa.array(np.zeros(plain.num_rows, dtype=np.int64))  # set per day
    return pa.table({**columns, "t": plain["t"], "d": plain["d"]})


class Writer:
    """Writes the reference lake's tables."""

    def __init__(self, root: Path, shape: Shape) -> None:
        from airflow_provider_fansly.storage.location import Location

        self.root, self.shape = root, shape
        self.location = Location.parse(str(root))
        self.offers = Offers(shape)
        self.templates = Templates(self.offers)
        self.ids = pa.array(self.offers.media, pa.string())
        self.account_ids = pa.array(self.offers.accounts, pa.string())

    def stats_of_day(self, period: int, day: int) -> tuple[pa.Table, np.ndarray]:
        """The ``media_stats`` rows of one day and period, in table order, and their owners."""
        from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA

        alive = self.offers.alive(day)
        rows, owner = self.templates.day(period, day, alive)
        fetched = _ms(self.shape.first + timedelta(days=day + 1)) * 1000 + 3_600_000_000
        at = pa.array(np.full(len(owner), fetched), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        table = rows.drop_columns(["t", "d"])
        table = table.set_column(0, "account_id", self.account_ids.take(pa.array(owner)))
        table = table.set_column(1, "media_offer_id", self.ids.take(pa.array(owner)))
        table = table.set_column(table.schema.get_field_index("fetched_at"), "fetched_at", at)
        table = table.set_column(
            table.schema.get_field_index("period_ms"),
            "period_ms",
            pa.array(np.full(len(owner), period, dtype=np.int64)),
        )
        return table.cast(MEDIA_STATS_SCHEMA), owner

    def days(self, period: int) -> range:
        first = 0 if period == DAY else self.shape.daily_days - self.shape.hourly_days
        return range(first, self.shape.daily_days)

    def write(self) -> dict[str, int]:
        """Write every table; return rows per table."""
        from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, ensure_table
        from airflow_provider_fansly.storage.files import write_file

        table = ensure_table(self.location, MEDIA_STATS_TABLE)
        counts = {"media_stats": 0, "fetch_log": 0}
        log: list[pa.Table] = []
        for period in (DAY, HOUR):
            old, recent = [], []
            for day in self.days(period):
                rows, owner = self.stats_of_day(period, day)
                counts["media_stats"] += rows.num_rows
                log.append(self.log_of_day(period, day, owner))
                if day >= self.shape.daily_days - RECENT:
                    recent.append(self.day_batches(rows))
                elif rows.num_rows:
                    old.append(write_file(self.location, rows))
                if len(old) >= 200:
                    self._commit(table, old)
                    old = []
                if sum(t.num_rows for t in log) >= 1_000_000:
                    counts["fetch_log"] += self._append_log(log)
                    log = []
            self._commit(table, old)
            for files in recent:  # a commit per batch, as the tasks of those days made
                for part in files:
                    self._commit(table, [write_file(self.location, part)])
        counts["fetch_log"] += self._append_log(log)
        counts["media_offers"] = self._media_offers()
        ensure_table(self.location, MEDIA_STATS_TABLE).create_checkpoint()
        return counts

    def day_batches(self, rows: pa.Table) -> list[pa.Table]:
        """One day's rows cut as the DAGs' batches: per account, 100 media offers each."""
        from airflow_provider_fansly.ingest.inputs import batches

        parts = []
        for account in pc.unique(rows["account_id"]).to_pylist():
            mine = rows.filter(pc.field("account_id") == account)
            for batch in batches(sorted(set(mine["media_offer_id"].to_pylist())), BATCH):
                parts.append(mine.filter(pc.field("media_offer_id").isin(batch)))
        return parts

    def _commit(self, table: Any, adds: list[Any]) -> None:
        from deltalake import CommitProperties

        from airflow_provider_fansly.storage.columns import PARTITION_COLUMNS

        if adds:
            table.update_incremental()
            table.create_write_transaction(
                adds,
                mode="append",
                schema=table.schema(),
                partition_by=list(PARTITION_COLUMNS),
                commit_properties=CommitProperties(custom_metadata={"fansly.run_id": "reference"}),
            )

    def log_of_day(self, period: int, day: int, owner: np.ndarray) -> pa.Table:
        """The fetch log of one day: each media offer alive (its rows), each found gone."""
        from airflow_provider_fansly.storage.columns import FETCH_LOG_SCHEMA

        alive = self.offers.alive(day)
        gone = np.flatnonzero(self.offers.gone == day)
        rows = np.bincount(owner, minlength=len(self.offers.media))
        who = np.concatenate([alive, gone])
        start = _ms(self.shape.first + timedelta(days=day))
        n = len(who)

        def same(value: Any, kind: pa.DataType) -> pa.Array:
            return pa.array(np.full(n, value)).cast(kind)

        return pa.table(
            {
                "account_id": self.account_ids.take(pa.array(who)),
                "media_offer_id": self.ids.take(pa.array(who)),
                "period_ms": same(period, pa.int64()),
                "dt": same(day + (self.shape.first - date(1970, 1, 1)).days, pa.int32()).cast(
                    pa.date32()
                ),
                "window_start": same(start * 1000, pa.int64()).cast(
                    FETCH_LOG_SCHEMA.field("window_start").type
                ),
                "window_end": same((start + DAY) * 1000, pa.int64()).cast(
                    FETCH_LOG_SCHEMA.field("window_end").type
                ),
                "run_id": same("reference", pa.string()),
                "try_number": same(1, pa.int32()),
                "requests": same(1, pa.int64()),
                "rows": pa.array(rows[who], pa.int64()),
                "fetched_at": same((start + DAY + HOUR) * 1000, pa.int64()).cast(
                    FETCH_LOG_SCHEMA.field("fetched_at").type
                ),
                "status": pa.array(["fetched"] * len(alive) + ["gone"] * len(gone)),
                "table_version": pa.nulls(n, pa.int64()),
            },
            schema=FETCH_LOG_SCHEMA,
        )

    def _append_log(self, parts: list[pa.Table]) -> int:
        from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE, append

        if not parts:
            return 0
        rows = pa.concat_tables(parts)
        append(self.location, FETCH_LOG_TABLE, rows)
        return rows.num_rows

    def _media_offers(self) -> int:
        from airflow_provider_fansly.storage.delta import MEDIA_OFFERS_TABLE, append

        end = self.shape.daily_days
        at = datetime.combine(END, datetime.min.time(), timezone.utc)
        rows = [
            {"account_id": a, "media_offer_id": m, "media_type": 1, "price": 0,
             "created_at": at - timedelta(days=end - int(b)), "deleted": bool(g <= end),
             "fetched_at": at}
            for a, m, b, g in zip(self.offers.accounts, self.offers.media, self.offers.born,
                                  self.offers.gone, strict=True)
        ]  # fmt: skip
        append(
            self.location, MEDIA_OFFERS_TABLE, pa.Table.from_pylist(rows, MEDIA_OFFERS_TABLE.schema)
        )
        return len(rows)


def size(root: Path) -> dict[str, int]:
    """The lake's ``media_stats`` as users see it: rows, live files, bytes."""
    from deltalake import DeltaTable

    files = pa.table(DeltaTable(str(root / "media_stats")).get_add_actions(flatten=True))
    return {
        "rows": int(pc.sum(files["num_records"]).as_py() or 0),
        "files": files.num_rows,
        "bytes": int(pc.sum(files["size_bytes"]).as_py() or 0),
    }


def describe(root: Path) -> str:
    """The lake's size in one line, printed beside every figure measured on it."""
    s = size(root)
    return f"{s['rows']:,} rows, {s['files']:,} files, {s['bytes'] / 2**20:,.0f} MiB"


def build(root: Path, shape: Shape) -> dict[str, Any]:
    """Write the lake at ``root`` unless a lake of the same shape is there; return its size."""
    marker = root / "reference.json"
    wanted = json.dumps({**shape.__dict__, "format": FORMAT}, sort_keys=True)
    if marker.exists() and json.loads(marker.read_text()).get("shape") == wanted:
        return dict(json.loads(marker.read_text()))
    if root.exists():
        import shutil

        shutil.rmtree(root)
    root.mkdir(parents=True)
    start = time.perf_counter()
    counts = Writer(root, shape).write()
    done = {"shape": wanted, "seconds": time.perf_counter() - start, **counts, **size(root)}
    marker.write_text(json.dumps(done))
    return done


def check_slice(root: Path, shape: Shape) -> int:
    """Fetch two template media offers' last 3 days daily and last day hourly through the
    operator from the emulator; assert the reference lake holds exactly the same rows."""
    import tempfile

    from deltalake import DeltaTable

    from benchmarks.common import conn_env, run_operator
    from devtools.stack import emulator_process

    offers = Offers(shape)
    account, ids = str(offers.accounts[0]), [str(m) for m in offers.media[:2]]
    keys = ["media_offer_id", "bucket_start", "stat_type", "period_ms", "views",
            "preview_views", "interaction_time_ms", "unique_viewers", "video_views",
            "video_percent_watched_total"]  # fmt: skip
    checked = 0
    with emulator_process() as url, conn_env(url), tempfile.TemporaryDirectory() as scratch:
        for period, days in ((DAY, 3), (HOUR, 1)):
            after, before = _ms(END - timedelta(days=days)), _ms(END)
            run_operator(ids, after, before, period, lake=scratch, account=account)
        fetched = DeltaTable(f"{scratch}/media_stats").to_pyarrow_table(columns=keys)
    ours = DeltaTable(str(root / "media_stats")).to_pyarrow_table(
        columns=keys,
        filters=[("media_offer_id", "in", ids), ("dt", ">=", END - timedelta(days=3))],
    )
    last = pa.scalar(_ms(END - timedelta(days=1)) * 1000, pa.timestamp("us", tz="UTC"))
    ours = ours.filter((pc.field("period_ms") == DAY) | (pc.field("bucket_start") >= last))
    order = [(k, "ascending") for k in keys[:4]]
    if fetched.sort_by(order).to_pylist() != ours.sort_by(order).to_pylist():
        raise AssertionError("the reference lake's rows differ from what the emulator serves")
    checked += fetched.num_rows
    return checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--per-account", type=int, default=500)
    parser.add_argument("--daily-days", type=int, default=1095)
    parser.add_argument("--hourly-days", type=int, default=HOURLY_DAYS)
    args = parser.parse_args()
    shape = Shape(20, args.per_account, args.daily_days, args.hourly_days)
    done = build(args.path, shape)
    print(shape.describe(), json.dumps(done))
    print("slice check:", check_slice(args.path, shape), "rows equal to the emulator's")


if __name__ == "__main__":
    main()
