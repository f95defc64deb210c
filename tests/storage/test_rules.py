"""The data-quality rules themselves: each one passes good rows and names what it refuses."""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from airflow_provider_fansly.client.windows import HOUR_MS
from airflow_provider_fansly.exceptions import FanslyDataError
from airflow_provider_fansly.storage import rules as schemas
from airflow_provider_fansly.storage.columns import ROWS_SCHEMA
from airflow_provider_fansly.storage.rules import rows_schema, validate_table

D0 = 1_771_200_000_000  # 2026-02-16T00:00Z
AFTER, BEFORE = D0, D0 + 48 * HOUR_MS
SCHEMA = rows_schema(AFTER, BEFORE, HOUR_MS)


def row(media: str = "m1", hour: int = 0, stat_type: int = 1, **values: Any) -> dict[str, Any]:
    """One good row; ``values`` overrides any column."""
    counts = {
        "views": 10,
        "preview_views": 4,
        "interaction_time_ms": 9_000,
        "preview_interaction_time_ms": 700,
        "unique_viewers": 8,
        "preview_unique_viewers": 3,
    }
    return {
        "account_id": "acc",
        "media_offer_id": media,
        "bucket_start": D0 + hour * HOUR_MS,
        "stat_type": stat_type,
        **counts,
        "fetched_at": D0 + 49 * HOUR_MS,
        **values,
    }


def good_rows() -> list[dict[str, Any]]:
    """Three media offers x 48 hours x 2 stat types, shuffled: every key once."""
    rows = [row(f"m{m}", h, t) for m in range(3) for h in range(48) for t in (0, 1)]
    random.Random(7).shuffle(rows)
    return rows


def table(rows: list[dict[str, Any]]) -> pa.Table:
    # the rows above give instants in epoch ms; the lake keeps microseconds
    in_us = [
        {
            k: v * 1000 if k in ("bucket_start", "fetched_at") and v is not None else v
            for k, v in r.items()
        }
        for r in rows
    ]
    return pa.Table.from_pylist(in_us, schema=ROWS_SCHEMA)


def refusal(rows: list[dict[str, Any]]) -> str:
    """The report a batch of rows is refused with."""
    with pytest.raises(FanslyDataError) as refused:
        validate_table(table(rows), SCHEMA, "warn")
    return str(refused.value)


def test_good_rows_pass_unchanged() -> None:
    rows = table(good_rows())
    checked, unknown = validate_table(rows, SCHEMA, "warn")
    assert checked is rows and unknown == {}


BAD = [
    ("negative-count", row(hour=5, preview_views=-2), "counts >= 0", "'preview_views': -2"),
    ("negative-type", row(hour=5, stat_type=-1), "stat_type: greater_than_or_equal_to(0)", None),
    ("unique>views", row(hour=5, unique_viewers=11), "unique_viewers <= views", None),
    ("preview", row(hour=5, preview_unique_viewers=5), "preview_unique_viewers <=", None),
    ("off-grid", row(hour=5, bucket_start=D0 + 1), f"on the {HOUR_MS} ms UTC grid", None),
    ("outside", row(hour=48), f"inside [{AFTER}, {BEFORE})", None),
    ("empty-id", row(media=""), "media_offer_id: str_length", None),
    ("null", row(hour=5, views=None), "views: not_nullable", "'views': None"),
    ("conflict", row("m2", 30, 0, views=99), "unique key (account_id, media_offer_id", "99"),
    ("negative-video", row(hour=5, video_views=-1), "video numbers null or >= 0", "-1"),
    ("negative-percent", row(hour=5, video_percent_watched_total=-0.5), "video numbers", None),
    ("video>views", row(hour=5, video_views=11), "video_views <= views", None),
    ("preview-video", row(hour=5, preview_video_views=5), "preview_video_views <=", None),
]


@pytest.mark.parametrize(("bad", "rule", "detail"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_each_rule_names_itself_and_shows_the_row(
    bad: dict[str, Any], rule: str, detail: str | None
) -> None:
    report = refusal([*good_rows(), bad])
    assert "failed data-quality validation; nothing was published" in report
    assert rule in report
    if detail:
        assert detail in report


def test_video_numbers_within_views_or_null_pass() -> None:
    rows = [*good_rows(), row("m9", 1, video_views=10, video_percent_watched_total=512.5)]
    assert validate_table(table(rows), SCHEMA, "warn")[0].num_rows == len(rows)


def test_an_exact_repeat_is_collapsed_not_refused() -> None:
    rows = good_rows()
    checked, _ = validate_table(table([*rows, rows[17]]), SCHEMA, "warn")
    assert checked.num_rows == len(rows)
    assert checked.to_pylist() == table(rows).to_pylist()


def test_the_key_rule_stays_exact_when_every_hash_collides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hashes only prove keys distinct: when they collide, the exact comparison decides."""
    monkeypatch.setattr(schemas, "_KEY_HASH", pl.col("stat_type").cast(pl.UInt64) * 0)
    rows = table(good_rows())
    assert validate_table(rows, SCHEMA, "warn")[0] is rows
    assert "unique key" in refusal([*good_rows(), row("m0", 3, 1, views=50)])


def test_validation_leaves_the_callers_polars_engine_alone() -> None:
    with pl.Config(engine_affinity="streaming"):
        validate_table(table(good_rows()), SCHEMA, "warn")
        assert pl.Config.state()["POLARS_ENGINE_AFFINITY"] == "streaming"
