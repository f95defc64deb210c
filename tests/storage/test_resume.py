"""Resume reads earlier tries: by bucket range, fresh only, newest first, complete only."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from airflow_provider_fansly.client.datapoints import COUNT_COLUMNS
from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.storage.columns import ADDED_FIELDS, MEDIA_STATS_SCHEMA
from airflow_provider_fansly.storage.resume import Resume
from airflow_provider_fansly.storage.staging import STAGING_FORMAT, Piece, Staging
from airflow_provider_fansly.storage.store import Store

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
KEY = "k" * 16


def rows(media: str, days: range, fetched_at: int) -> pa.Table:
    """One row per day for a media offer, its views the day's number, staged as a try would."""
    n = len(days)
    columns = {
        "account_id": ["acct"] * n,
        "media_offer_id": [media] * n,
        "bucket_start": [(D0 + d * DAY_MS) * 1000 for d in days],
        "stat_type": [0] * n,
        "fetched_at": [fetched_at * 1000] * n,
        "period_ms": [DAY_MS] * n,
        "dt": [D0 // DAY_MS + d for d in days],
    }
    counts = {c: list(days) for c in COUNT_COLUMNS}
    counts |= {f.name: [None] * n for f in ADDED_FIELDS}
    merged = {**columns, **counts}
    return pa.table(
        [pa.array(merged[f.name], f.type) for f in MEDIA_STATS_SCHEMA], schema=MEDIA_STATS_SCHEMA
    )


def stage(store: Store, attempt: str, media: str, days: range, fetched_at: int) -> None:
    staging = Staging(store, KEY, attempt)
    piece = Piece(media, D0 + days.start * DAY_MS, D0 + days.stop * DAY_MS, 1, fetched_at)
    staging.add(rows(media, days, fetched_at), [piece])
    staging.checkpoint()


def take(resume: Resume, media: str, after: int, before: int) -> Resume | None:
    """``resume`` with ``[after, before)`` of ``media`` reused, or ``None`` when not all held."""
    held = resume.covering(media, after, before)
    return None if held is None else resume.taking(held)


def taken_days(resume: Resume) -> list[tuple[str, int, int]]:
    got = pa.concat_tables(list(resume.tables())).to_pylist()
    return sorted(
        (r["media_offer_id"], r["views"], int(r["fetched_at"].timestamp() * 1000)) for r in got
    )


def test_a_changed_chunk_size_still_finds_the_staged_buckets(tmp_path: Path) -> None:
    store = Store.local(str(tmp_path))
    stage(store, "try1", "m1", range(0, 6), fetched_at=1000)
    stage(store, "try1", "m1", range(6, 10), fetched_at=1000)
    loaded = Resume.load(store, KEY, oldest_ms=0)
    resume = take(loaded, "m1", D0 + 2 * DAY_MS, D0 + 8 * DAY_MS)  # spans both staged pieces
    assert resume is not None and loaded.taken == []  # a new value; the loaded one is as it was
    assert take(resume, "m1", D0 + 8 * DAY_MS, D0 + 12 * DAY_MS) is None  # days 10, 11 missing
    assert take(resume, "m2", D0, D0 + DAY_MS) is None
    assert [d[1] for d in taken_days(resume)] == [2, 3, 4, 5, 6, 7]
    assert resume.requests == 1  # the piece starting inside the range carries its request


def test_the_newest_try_wins_and_stale_pieces_are_ignored(tmp_path: Path) -> None:
    store = Store.local(str(tmp_path))
    stage(store, "try1", "m1", range(0, 4), fetched_at=1000)
    stage(store, "try2", "m1", range(0, 4), fetched_at=2000)
    resume = take(Resume.load(store, KEY, oldest_ms=0), "m1", D0, D0 + 4 * DAY_MS)
    assert resume is not None
    assert {d[2] for d in taken_days(resume)} == {2000}  # no duplicate rows from try1
    assert take(Resume.load(store, KEY, oldest_ms=3000), "m1", D0, D0 + DAY_MS) is None


def test_a_file_without_its_manifest_is_not_trusted(tmp_path: Path) -> None:
    store = Store.local(str(tmp_path))
    stage(store, "try1", "m1", range(0, 4), fetched_at=1000)
    (manifest,) = tmp_path.rglob("*.json")
    manifest.unlink()  # the try died between the data file and its manifest
    assert take(Resume.load(store, KEY, oldest_ms=0), "m1", D0, D0 + DAY_MS) is None


def test_a_manifest_cut_short_by_a_kill_is_ignored_not_fatal(tmp_path: Path) -> None:
    store = Store.local(str(tmp_path))
    stage(store, "try1", "m1", range(0, 4), fetched_at=1000)
    stage(store, "try2", "m1", range(4, 8), fetched_at=1000)
    cut = sorted(tmp_path.rglob("*.json"))[1]
    cut.write_bytes(cut.read_bytes()[:20])
    resume = Resume.load(store, KEY, oldest_ms=0)
    assert take(resume, "m1", D0, D0 + 4 * DAY_MS)  # the readable try's pieces still count
    assert take(resume, "m1", D0 + 4 * DAY_MS, D0 + 5 * DAY_MS) is None


def test_pieces_staged_in_another_format_are_bought_again_not_misread(tmp_path: Path) -> None:
    """A 0.4 manifest (no format) or another release's is skipped; this release's is read."""
    store = Store.local(str(tmp_path))
    stage(store, "try1", "m1", range(0, 3), fetched_at=1000)
    stage(store, "try2", "m2", range(0, 3), fetched_at=1000)
    (manifest,) = [p for p in tmp_path.rglob("*.json") if "try1" in str(p)]
    old = json.loads(manifest.read_text())
    assert old.pop("format") == STAGING_FORMAT
    manifest.write_text(json.dumps(old))  # as 0.4 wrote it
    resume = Resume.load(store, KEY, oldest_ms=0)
    assert take(resume, "m1", D0, D0 + 3 * DAY_MS) is None  # bought again
    assert take(resume, "m2", D0, D0 + 3 * DAY_MS)  # this release's own
    manifest.write_text(json.dumps({**old, "format": "9:0123456789ab"}))
    assert take(Resume.load(store, KEY, oldest_ms=0), "m1", D0, D0 + 3 * DAY_MS) is None


def test_a_zombie_and_its_retry_never_remove_each_others_pieces(tmp_path: Path) -> None:
    """The zombie (try 1) staged m1; its retry (try 2) reuses that and stages m2; the zombie
    commits first and cleans up. The retry still commits both, then leaves nothing behind."""
    store = Store.local(str(tmp_path))
    zombie = Staging(store, KEY, "try1")
    zombie.add(rows("m1", range(0, 3), 1000), [Piece("m1", D0, D0 + 3 * DAY_MS, 1, 1000)])
    zombie.checkpoint()
    resume = take(Resume.load(store, KEY, oldest_ms=0), "m1", D0, D0 + 3 * DAY_MS)
    assert resume is not None
    retry = Staging(store, KEY, "try2")
    retry.hold(resume.folders)
    retry.add(rows("m2", range(0, 3), 2000), [Piece("m2", D0, D0 + 3 * DAY_MS, 1, 2000)])
    retry.checkpoint()  # the retry's own live folder
    zombie.finish(committed=True)
    assert (tmp_path / zombie.dir).exists()  # the retry reads it: held
    assert (tmp_path / retry.dir).exists()  # the retry's own: never the zombie's to remove
    retry.reuse(resume.tables, resume.tag_rows)
    committed = pa.Table.from_batches(list(retry.reader()))
    assert sorted(committed["media_offer_id"].to_pylist()) == ["m1"] * 3 + ["m2"] * 3
    retry.finish(committed=True)
    assert not (tmp_path / "_staging" / KEY).exists()
