"""What earlier tries of the same task staged, so that a retry buys only what they lack.

A retry (Airflow's, or a cleared task) has the same task key as the try that failed: the same
account, media offers, period and window. It reads the manifests under ``_staging/{key}/``,
keeps the pieces fetched within ``max_age`` (recent stats still move, so old answers are
bought again) and, where two tries hold the same buckets, the newer one. Pieces are matched by
bucket range, not by chunk, so a changed chunk size still finds them.
"""

from __future__ import annotations

import logging
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.client.models import MediaOffer
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.staging import (
    STAGING_FORMAT,
    Manifest,
    ManifestFormat,
    Piece,
)
from airflow_provider_fansly.storage.store import Store
from airflow_provider_fansly.storage.tags import TagRow

__all__ = ["Resume", "Reused"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reused:
    """A piece of an earlier try, clipped to the part a chunk needs, and the file holding it."""

    piece: Piece
    file: str


@dataclass(frozen=True)
class Resume:
    """The fresh pieces earlier tries of one task staged, by media offer (disjoint ranges)."""

    store: Store
    pieces: dict[str, list[Reused]] = field(default_factory=dict)
    media: dict[str, MediaOffer] = field(default_factory=dict)
    taken: list[Reused] = field(default_factory=list)
    #: the tags each staged file's manifest holds
    file_tags: dict[str, list[TagRow]] = field(default_factory=dict)

    @classmethod
    def load(cls, store: Store, key: str, oldest_ms: int) -> Resume:
        """Read every complete manifest of the task's earlier tries; keep pieces fetched at or
        after ``oldest_ms``, the newest where two overlap."""
        found: list[Reused] = []
        media: dict[str, MediaOffer] = {}
        file_tags: dict[str, list[TagRow]] = {}
        attempts = store.listdir(f"{layout.STAGING_DIR}/{key}")
        for attempt in attempts:
            folder = layout.staging_dir(key, attempt)
            for name in store.listdir(folder):
                if not name.endswith(".json"):
                    continue
                parquet = f"{folder}/{name.removesuffix('.json')}.parquet"
                try:
                    raw = store.read_bytes(f"{folder}/{name}")
                    staged = msgspec.json.decode(raw, type=ManifestFormat).format
                    if staged != STAGING_FORMAT:
                        log.info(
                            "Not reusing %s/%s: staged in format %s, this release reads %s",
                            folder,
                            name,
                            staged,
                            STAGING_FORMAT,
                        )
                        continue
                    manifest = msgspec.json.decode(raw, type=Manifest)
                except msgspec.MsgspecError as error:
                    # cut short by a kill, or not a manifest at all
                    log.warning("Ignoring the unreadable staging manifest %s: %s", name, error)
                    continue
                read = [Reused(Piece(*p), parquet) for p in manifest.pieces]
                offers = manifest.media
                file_tags[parquet] = manifest.tags
                found.extend(read)
                media.update((m.id, m) for m in offers)
        fresh = sorted(
            (r for r in found if r.piece.fetched_at_ms >= oldest_ms),
            key=lambda r: -r.piece.fetched_at_ms,
        )
        pieces: dict[str, list[Reused]] = defaultdict(list)
        for candidate in fresh:
            kept = pieces[candidate.piece.media_offer_id]
            if not any(_overlap(candidate.piece, k.piece) for k in kept):
                kept.append(candidate)
        if found:
            log.info(
                "Earlier tries of this task staged %d piece(s); %d are fresh enough to reuse",
                len(found),
                sum(len(v) for v in pieces.values()),
            )
        return cls(store, dict(pieces), media, file_tags=file_tags)

    def covering(self, media_offer_id: str, after: int, before: int) -> list[Reused] | None:
        """The staged parts of ``[after, before)`` when earlier tries hold all of its buckets,
        else ``None``; nothing changes."""
        parts = [
            Reused(_clip(r.piece, after, before), r.file)
            for r in self.pieces.get(media_offer_id, ())
            if r.piece.after < before and r.piece.before > after
        ]
        held = sum(p.piece.before - p.piece.after for p in parts)
        return parts if held >= before - after else None

    def taking(self, parts: Iterable[Reused]) -> Resume:
        """The same staged pieces with ``parts`` also reused: a new value, this one as it was."""
        return replace(self, taken=[*self.taken, *parts])

    @property
    def folders(self) -> set[str]:
        """The staging folders of the pieces taken so far."""
        return {posixpath.dirname(r.file) for r in self.taken}

    @property
    def media_offer_ids(self) -> set[str]:
        """The media offers some of whose pieces are taken."""
        return {r.piece.media_offer_id for r in self.taken}

    @property
    def requests(self) -> int:
        """The requests earlier tries paid for the pieces taken so far."""
        return sum(r.piece.requests for r in self.taken)

    def tables(self) -> Iterator[pa.Table]:
        """The rows of the pieces taken, one table per staged file."""
        by_file: dict[str, list[Piece]] = defaultdict(list)
        for reused in self.taken:
            by_file[reused.file].append(reused.piece)
        for file, pieces in by_file.items():
            yield _select(self.store.read_table(file), _merged(pieces))

    def tag_rows(self) -> list[TagRow]:
        """The tags staged with the pieces taken: those whose window the taken pieces of
        their file hold in full."""
        by_file: dict[str, list[Piece]] = defaultdict(list)
        for reused in self.taken:
            by_file[reused.file].append(reused.piece)
        return [
            tag
            for file, pieces in by_file.items()
            for tag in self.file_tags.get(file, ())
            if any(
                p.media_offer_id == tag.media_offer_id
                and p.after <= tag.window_start_ms
                and tag.window_end_ms <= p.before
                for p in _merged(pieces)
            )
        ]


def _overlap(a: Piece, b: Piece) -> bool:
    return a.after < b.before and b.after < a.before


def _clip(piece: Piece, after: int, before: int) -> Piece:
    """The part of ``piece`` inside ``[after, before)``; its requests stay with its start."""
    inside = after <= piece.after < before
    return Piece(
        piece.media_offer_id,
        max(piece.after, after),
        min(piece.before, before),
        piece.requests if inside else 0,
        piece.fetched_at_ms,
    )


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Join each media offer's adjacent ranges, so that most files need one lookup."""
    out: list[Piece] = []
    for piece in sorted(pieces, key=lambda p: (p.media_offer_id, p.after)):
        last = out[-1] if out else None
        if last and last.media_offer_id == piece.media_offer_id and last.before == piece.after:
            out[-1] = Piece(last.media_offer_id, last.after, piece.before, 0, last.fetched_at_ms)
        else:
            out.append(piece)
    return out


def _select(table: pa.Table, pieces: list[Piece]) -> pa.Table:
    """The rows of ``table`` inside the pieces' (media offer, bucket range)s, vectorised.

    Pieces are taken in layers with at most one range per media offer, each layer one lookup.
    """
    micros = pc.cast(table["bucket_start"], pa.int64())
    keep = pa.repeat(pa.scalar(False), table.num_rows)
    layers: list[dict[str, Piece]] = []
    for piece in pieces:
        layer = next((lay for lay in layers if piece.media_offer_id not in lay), None)
        if layer is None:
            layer = {}
            layers.append(layer)
        layer[piece.media_offer_id] = piece
    for layer in layers:
        index = pc.index_in(table["media_offer_id"], value_set=pa.array(list(layer)))
        low = pc.take(pa.array([p.after * 1000 for p in layer.values()], pa.int64()), index)
        high = pc.take(pa.array([p.before * 1000 for p in layer.values()], pa.int64()), index)
        inside = pc.and_(pc.greater_equal(micros, low), pc.less(micros, high))
        keep = pc.or_(keep, pc.fill_null(inside, False))
    return table.filter(keep)
