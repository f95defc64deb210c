"""Publish a run's staged files: the last step, taken only after every fetch and check passed.

On a local disk each file lands with one atomic rename, so a reader sees the old file or the
new one, never a torn one. On object stores without rename (S3), each file is copied into
place and appears whole, but a reader listing the lake mid-publish may see some partitions
from the new run and some from the old one; see docs/dataset.md.
"""

from __future__ import annotations

from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.writer import Stager

__all__ = ["publish"]


def publish(stager: Stager) -> int:
    """Move every staged file into place, then drop superseded files; return files published."""
    store = stager.store
    store.write_json(
        layout.key_manifest(stager.key),
        {"account_id": stager.account_id, "media_offer_ids": sorted(set(stager.media_offer_ids))},
    )
    for staged, target in stager.moves:
        store.move(staged, target)
    for target in stager.deletions:
        store.remove(target)
    store.remove(stager.dir)
    return len(stager.moves)
