"""Hold one try's validated rows until its one commit; leave what it fetched for its retry.

Most tasks (a day or a few of one batch) fit in one validation batch: those rows stay in
memory and go straight into the commit. Past ``spill_rows`` rows, and whenever the try
checkpoints (now and then, and when it fails), rows go to a folder of this try's own
(``_staging/{task key}/{try}-{random}``), so a zombie and its retry, or two copies of one task,
never write into each other's files.

Each file ``batch-NNNNN.parquet`` is followed by ``batch-NNNNN.json``, its manifest: the
pieces (media offer, bucket range, requests, fetched at) the file holds in full, and their
media metadata, and the staging format it was written in (:data:`STAGING_FORMAT`). A manifest
is written last, so its presence means the file is complete; a
retry of the same task reads the manifests of earlier tries (:mod:`.resume`) and buys only
what they lack. Staged files are invisible to readers of the Delta tables; maintenance sweeps
folders a dead try left.

Two tries of one task can run at once (a zombie and its retry). A try that reuses another's
folder marks it (``{folder}/_readers/{its own folder}``) before it fetches; after its commit a
try removes its own folder and the folders it reused, except those another try still reads.
It never removes a folder it does not know: a live try's folder is that try's own business.
"""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields

import msgspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from airflow_provider_fansly.client.models import MediaOffer
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
from airflow_provider_fansly.storage.store import Store
from airflow_provider_fansly.storage.tags import FYP_TAGS_SCHEMA, TagRow, fyp_tags_table

__all__ = [
    "READERS",
    "SPILL_ROWS",
    "STAGING_FORMAT",
    "Manifest",
    "ManifestFormat",
    "Piece",
    "Staging",
]

_READ_BATCH_ROWS = 131_072
#: The folder, inside a try's folder, where the tries reusing its pieces mark themselves.
READERS = "_readers"
SPILL_ROWS = 100_000
#: Bump when what a manifest says, or how, changes.
_MANIFEST_VERSION = 3


def _format() -> str:
    """The manifest version and a digest of what a staged file relies on: the Parquet schema
    of its rows, and the fields of the media metadata and the tags beside them."""
    media = [(f.name, str(f.type)) for f in fields(MediaOffer)]
    tags = f"{TagRow._fields}|{FYP_TAGS_SCHEMA.to_string(show_schema_metadata=False)}"
    shape = f"{MEDIA_STATS_SCHEMA.to_string(show_schema_metadata=False)}|{media}|{tags}"
    return f"{_MANIFEST_VERSION}:{hashlib.sha256(shape.encode()).hexdigest()[:12]}"


#: What a manifest is written in. A retry reuses only files of its own format: a release that
#: changes the rows or the metadata buys the pieces of an older one again, never misreads them.
STAGING_FORMAT = _format()


@dataclass(frozen=True)
class Piece:
    """One media offer's buckets of ``[after, before)``, fetched in full and validated."""

    media_offer_id: str
    after: int
    before: int
    requests: int
    fetched_at_ms: int

    def to_json(self) -> tuple[str, int, int, int, int]:
        """The compact form a manifest holds (``Piece(*form)`` reads it back)."""
        return (self.media_offer_id, self.after, self.before, self.requests, self.fetched_at_ms)


class Manifest(msgspec.Struct, frozen=True):
    """What a staged file holds, written beside it once it is complete: its format, rows, the
    pieces it completes (as :meth:`Piece.to_json`), their media metadata and their tags."""

    format: str
    rows: int
    pieces: list[tuple[str, int, int, int, int]]
    media: list[MediaOffer]
    tags: list[TagRow]


class ManifestFormat(msgspec.Struct):
    """Only a manifest's format, read first: another format's other fields may differ."""

    format: str = "0.4"


@dataclass
class _Held:
    table: pa.Table
    pieces: list[Piece]
    media: list[MediaOffer]
    tags: list[TagRow]


class Staging:
    """The validated rows of one try of one task: the first in memory, the rest in files."""

    def __init__(self, store: Store, key: str, attempt: str, spill_rows: int = SPILL_ROWS) -> None:
        self.store = store
        self.key = key
        self.dir = layout.staging_dir(key, f"{attempt}-{uuid.uuid4().hex[:8]}")
        self.spill_rows = spill_rows
        self.held: list[_Held] = []
        self.files: list[str] = []
        self.rows = 0
        #: more rows for the commit (what a retry reuses of earlier tries), read on each attempt
        self._extra: Callable[[], Iterable[pa.Table]] | None = None
        #: media offers whose rows stay out of the commit (set apart as invalid)
        self._exclude: set[str] = set()
        #: other tries' folders this try reuses pieces of (marked as read)
        self.reading: set[str] = set()
        #: every tag this try staged (few: kept in memory too), and those reused, read on demand
        self.tags: list[TagRow] = []
        self._extra_tags: Callable[[], list[TagRow]] | None = None

    @property
    def name(self) -> str:
        """This try's folder name, which marks the folders it reads."""
        return posixpath.basename(self.dir)

    def reuse(
        self, tables: Callable[[], Iterable[pa.Table]], tags: Callable[[], list[TagRow]]
    ) -> None:
        """Add what a retry reuses of earlier tries to the commit: their rows and tags, read
        again on each attempt of the commit."""
        self._extra, self._extra_tags = tables, tags

    def leave_out(self, media_offer_ids: Iterable[str]) -> None:
        """Keep these media offers' rows and tags out of the commit (set apart as invalid)."""
        self._exclude |= set(media_offer_ids)

    def hold(self, folders: Iterable[str]) -> None:
        """Mark other tries' folders as read by this try until it finishes, so that no try
        that commits meanwhile removes the pieces this one will commit."""
        for folder in set(folders) - {self.dir}:
            self.store.write_bytes(f"{folder}/{READERS}/{self.name}", b"{}")
            self.reading.add(folder)

    def add(
        self,
        table: pa.Table,
        pieces: Sequence[Piece] = (),
        media: Sequence[MediaOffer] = (),
        tags: Sequence[TagRow] = (),
    ) -> None:
        """Take one batch of validated rows, the pieces it completes and their tags."""
        held = _Held(table.cast(MEDIA_STATS_SCHEMA), list(pieces), list(media), list(tags))
        self.tags.extend(tags)
        self.rows += table.num_rows
        if self.rows <= self.spill_rows:
            self.held.append(held)
        else:
            self._write(held)

    def checkpoint(self) -> int:
        """Write the rows held in memory to this try's folder; return the pieces written.

        After a checkpoint a retry of the task reuses these pieces instead of buying them again.
        """
        held, self.held = self.held, []
        for item in held:
            self._write(item)
        return sum(len(item.pieces) for item in held)

    def _write(self, item: _Held) -> None:
        name = f"{self.dir}/batch-{len(self.files):05d}"
        self.store.write_table(f"{name}.parquet", item.table)
        manifest = Manifest(
            STAGING_FORMAT,
            item.table.num_rows,
            [p.to_json() for p in item.pieces],
            item.media,
            item.tags,
        )
        self.store.write_bytes(f"{name}.json", msgspec.json.encode(manifest))
        self.files.append(f"{name}.parquet")

    def reader(self, where: pc.Expression | None = None) -> pa.RecordBatchReader:
        """A fresh stream of every row (one per commit try), or of those ``where`` selects,
        in bounded batches."""
        return pa.RecordBatchReader.from_batches(MEDIA_STATS_SCHEMA, self._batches(where))

    def tag_table(self, account_id: str, period: int, window: tuple[int, int]) -> pa.Table:
        """Every tag the commit holds: staged by this try or reused (none of an excluded media
        offer)."""
        rows = [*self.tags, *(self._extra_tags() if self._extra_tags else ())]
        kept = [r for r in rows if r.media_offer_id not in self._exclude]
        return fyp_tags_table(account_id, period, window, kept)

    def keep(self, rows: pa.Table) -> pa.Table:
        """The rows of ``rows`` that go into the commit (none of an excluded media offer)."""
        if not self._exclude:
            return rows
        return rows.filter(
            pc.invert(pc.is_in(rows["media_offer_id"], pa.array(sorted(self._exclude))))
        )

    def _batches(self, where: pc.Expression | None) -> Iterator[pa.RecordBatch]:
        for table in self._tables(where):
            yield from self.keep(table).to_batches(max_chunksize=_READ_BATCH_ROWS)

    def _tables(self, where: pc.Expression | None) -> Iterator[pa.Table]:
        for item in self.held:
            yield item.table if where is None else item.table.filter(where)
        if self.files:
            dataset = ds.dataset(
                [self.store.full(rel) for rel in self.files],
                schema=MEDIA_STATS_SCHEMA,
                format="parquet",
                filesystem=self.store.fs,
            )
            batches = dataset.to_batches(
                batch_size=_READ_BATCH_ROWS,
                filter=where,
                batch_readahead=1,  # the defaults read ahead 64 batches: memory, not speed
                fragment_readahead=1,
                use_threads=False,
            )
            for batch in batches:
                yield pa.Table.from_batches([batch])
        for table in self._extra() if self._extra else ():
            rows = table.cast(MEDIA_STATS_SCHEMA)
            yield rows if where is None else rows.filter(where)

    def finish(self, committed: bool) -> None:
        """Drop the rows held in memory and this try's marks. After the commit, remove this
        try's folder and the folders it reused (their pieces are in the table now), unless
        another try still reads one; after a failure keep this try's folder for the retry."""
        self.held.clear()
        self._extra = self._extra_tags = None
        self.tags.clear()
        for folder in self.reading:
            self.store.remove(f"{folder}/{READERS}/{self.name}")
        if not committed:
            return
        for folder in sorted({self.dir} | self.reading):
            if not self.store.listdir(f"{folder}/{READERS}"):
                self.store.remove(folder)
        task = f"{layout.STAGING_DIR}/{self.key}"
        if not self.store.listdir(task):
            self.store.remove(task)
