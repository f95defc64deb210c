"""File operations on the lake's root, on any fsspec filesystem (local disk, S3, GCS, ...).

The filesystem comes from whoever opened the lake: the lake hook builds it from an Airflow
connection, :meth:`Store.local` from a plain path; nothing here knows Airflow.
"""

from __future__ import annotations

import contextlib
import posixpath

import pyarrow as pa
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

__all__ = ["Store"]


class Store:
    """The lake root: relative paths in, fsspec calls out (local disk, S3, GCS, ...)."""

    def __init__(self, fs: AbstractFileSystem, root: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")

    @classmethod
    def local(cls, root: str) -> Store:
        """A folder on local disk."""
        return cls(LocalFileSystem(), root)

    def child(self, rel: str) -> Store:
        """The folder ``rel`` under the root, as a store of its own."""
        return Store(self.fs, self.full(rel))

    def full(self, rel: str) -> str:
        """Return the filesystem path of a path relative to the root."""
        return f"{self.root}/{rel}"

    def exists(self, rel: str) -> bool:
        """Say whether a file or directory exists."""
        return bool(self.fs.exists(self.full(rel)))

    def listdir(self, rel: str) -> list[str]:
        """Return the names in a directory (empty when it does not exist)."""
        try:
            entries = self.fs.ls(self.full(rel), detail=False)
        except FileNotFoundError:
            return []
        return sorted(posixpath.basename(str(e).rstrip("/")) for e in entries)

    def read_table(self, rel: str) -> pa.Table:
        """Read one Parquet file."""
        with self.fs.open(self.full(rel), "rb") as fh:
            return pq.read_table(fh)

    def write_table(self, rel: str, table: pa.Table) -> None:
        """Write one Parquet file (zstd, one schema, statistics on)."""
        self.fs.makedirs(posixpath.dirname(self.full(rel)), exist_ok=True)
        with self.fs.open(self.full(rel), "wb") as fh:
            pq.write_table(table, fh, compression="zstd")

    def read_bytes(self, rel: str) -> bytes:
        """Read one small file whole."""
        with self.fs.open(self.full(rel), "rb") as fh:
            return bytes(fh.read())

    def write_bytes(self, rel: str, data: bytes) -> None:
        """Write one small file (after the data it describes: its presence means complete)."""
        self.fs.makedirs(posixpath.dirname(self.full(rel)), exist_ok=True)
        with self.fs.open(self.full(rel), "wb") as fh:
            fh.write(data)

    def move(self, src: str, dst: str) -> None:
        """Move a file or folder: one rename on local disk, copy+delete on S3."""
        self.fs.makedirs(posixpath.dirname(self.full(dst)), exist_ok=True)
        self.fs.mv(self.full(src), self.full(dst), recursive=True)

    def newest_change(self, rel: str) -> float:
        """Return the newest modification time (epoch s) of the files under a folder; 0 if none."""
        newest = 0.0
        for info in self.fs.find(self.full(rel), detail=True).values():
            stamp = info.get("mtime") or info.get("LastModified") or info.get("updated")
            if hasattr(stamp, "timestamp"):
                stamp = stamp.timestamp()
            newest = max(newest, float(stamp or 0))
        return newest

    def remove(self, rel: str) -> None:
        """Remove a file or a whole directory; a missing one is fine."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm(self.full(rel), recursive=True)
