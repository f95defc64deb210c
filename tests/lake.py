"""Helpers that read a lake back the way users do (through Delta), and the truth it should hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from airflow_provider_fansly.client.datapoints import COUNT_COLUMNS, VIDEO_COLUMNS
from airflow_provider_fansly.client.reconcile import vouched_from
from airflow_provider_fansly.testing.emulator.answers import dataset
from airflow_provider_fansly.testing.synthetic import TAG_NAMES, expected_rows

Row = tuple[Any, ...]
#: The numbers of a row compared with the emulator's: the counts and the video fields (None
#: where the answer had none).
NUMBERS = (*COUNT_COLUMNS, *VIDEO_COLUMNS.values())


def snapshot(root: Path) -> dict[str, bytes]:
    """Every byte of the lake's data tables: equal snapshots, an unchanged lake.

    Staging and the credit ledger are left out: every try, failed ones too, records there what
    it spent, and a failed try leaves what it fetched staged for its retry.
    """
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {"_staging", "credit_ledger"} & set(p.parts)
    }


def table(
    root: Path | str,
    name: str = "media_stats",
    version: int | None = None,
    options: dict[str, str] | None = None,
) -> pa.Table:
    """One Delta table of the lake at its latest version (or ``version``); ``options`` are
    delta-rs storage options (an object store's endpoint and keys)."""
    return DeltaTable(f"{root}/{name}", version=version, storage_options=options).to_pyarrow_table()


def s3_options(s3_endpoint: str) -> dict[str, str]:
    """delta-rs's storage options for the local S3 of the ``s3_endpoint`` fixture."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }


def s3_rows(s3_endpoint: str, lake: str) -> list[Row]:
    """A lake on the local S3 as (media, bucket ms, type, views), sorted."""
    uri = "s3://" + lake.split("@", 1)[1] + "/media_stats"
    rows = DeltaTable(uri, storage_options=s3_options(s3_endpoint)).to_pyarrow_table()
    return sorted(
        (r["media_offer_id"], int(r["bucket_start"].timestamp() * 1000), r["stat_type"], r["views"])
        for r in rows.to_pylist()
    )


def lake_rows(
    root: Path | str, period: int | None = None, options: dict[str, str] | None = None
) -> list[Row]:
    """The lake's rows as (media, bucket ms, type, counts...) sorted, read through Delta."""
    rows = []
    for r in table(root, options=options).to_pylist():
        if period is None or r["period_ms"] == period:
            ms = int(r["bucket_start"].timestamp() * 1000)
            rows.append((r["media_offer_id"], ms, r["stat_type"], *(r[c] for c in NUMBERS)))
    return sorted(rows)


def truth(account: str, ids: list[str], after: int, before: int, period: int) -> list[Row]:
    """The emulator's rows for the same window."""
    rows = []
    for media in ids:
        for r in expected_rows(account, media, after, before, period):
            rows.append((media, r["bucket_start_ms"], r["stat_type"], *(r.get(c) for c in NUMBERS)))
    return sorted(rows)


def before_video(rows: list[Row]) -> list[Row]:
    """The same rows as a release before 0.5 kept them: the video numbers null."""
    return [(*r[: -len(VIDEO_COLUMNS)], *(None,) * len(VIDEO_COLUMNS)) for r in rows]


def days(
    root: Path | str, period: int, name: str = "media_stats", options: dict[str, str] | None = None
) -> list[str]:
    """The distinct days (ISO) of one period in a table."""
    t = table(root, name, options=options)
    return sorted({str(r["dt"]) for r in t.to_pylist() if r["period_ms"] == period})


def lake_tags(root: Path) -> list[Row]:
    """The ``fyp_tags`` rows as (media, window start ms, window end ms, tag, name, views,
    preview views, interaction time, preview interaction time), sorted."""
    rows = []
    for r in table(root, "fyp_tags").to_pylist():
        window = (
            int(r["window_start"].timestamp() * 1000),
            int(r["window_end"].timestamp() * 1000),
        )
        numbers = (r["views"], r["preview_views"], r["interaction_time_ms"])
        rows.append((r["media_offer_id"], *window, r["tag_id"], r["tag_name"], *numbers,
                     r["preview_interaction_time_ms"]))  # fmt: skip
    return sorted(rows)


def tag_truth(account: str, log: list[dict[str, Any]], limit: int) -> list[Row]:
    """The tags of every answer the emulator served (its log), each with the window the
    client vouches for: the asked one, or its newest ``limit - 1`` buckets when cut."""
    rows = set()
    for e in log:
        after, before, period = e["after"], e["before"], e["period"]
        start = vouched_from(after, before, period, limit)
        for t in dataset(account, e["media"], after, before, period, limit)["dataset"][
            "topFypTags"
        ]:
            numbers = (
                t["views"],
                t["previewViews"],
                t["interactionTime"],
                t["previewInteractionTime"],
            )
            rows.add((e["media"], start, before, t["tagId"], TAG_NAMES[t["tagId"]], *numbers))
    return sorted(rows)
