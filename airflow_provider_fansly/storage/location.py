"""Where a lake lives: its Delta table URIs, the storage options delta-rs needs, its files.

A :class:`Location` is plain data and knows nothing of Airflow. :meth:`Location.parse` opens a
lake on local disk (a path or ``file://``); a lake on an object store
(``s3://conn_id@bucket/path``, ``gs://``, ``abfs://``) is opened by the lake hook
(:mod:`airflow_provider_fansly.hooks.lake`), the one place an Airflow connection becomes
credentials: it hands a Location the store's filesystem and a resolver of its options.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.storage.store import Store

__all__ = ["REMOTE_PROTOCOLS", "Credentials", "Location", "Options"]

#: Storage options and when they expire (epoch seconds; ``None``: never).
Options = tuple[dict[str, str], float | None]

REMOTE_PROTOCOLS = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "az")


@dataclass(frozen=True)
class Location:
    """One lake root: its Delta URIs, the storage options delta-rs needs, and its file store."""

    output_path: str
    root_uri: str
    protocol: str
    conn_id: str | None
    credentials: Credentials = field(repr=False, compare=False)
    store: Store = field(repr=False, compare=False)

    @property
    def storage_options(self) -> dict[str, str]:
        """What delta-rs needs to reach the store, resolved again once they expire."""
        return self.credentials.options()

    @classmethod
    def parse(cls, output_path: str) -> Location:
        """Open a lake on local disk; refuse an object store's URL, which needs the lake hook
        (its connection holds the credentials)."""
        text = str(output_path)
        protocol = text.split("://", 1)[0] if "://" in text else "file"
        if protocol in REMOTE_PROTOCOLS:
            raise FanslyInputError(
                f"{text!r} is a lake on an object store: open it with "
                "airflow_provider_fansly.hooks.lake.LakeHook, which reads the connection "
                "it names"
            )
        if protocol not in ("file", "local"):
            raise FanslyInputError(f"{text!r}: unknown storage protocol {protocol!r}")
        root = os.path.abspath(text.removeprefix(f"{protocol}://")).rstrip("/") or "/"
        return cls(text, root, "file", None, Credentials(), Store.local(root))

    def table_uri(self, name: str) -> str:
        """Return the URI of one table (or folder) under the root."""
        return f"{self.root_uri}/{name}"

    def __str__(self) -> str:
        return self.root_uri


class Credentials:
    """A store's storage options, kept until they expire, then resolved again.

    Temporary credentials (an assumed role, a web identity) expire, and a long task commits at
    its end: each use of :attr:`Location.storage_options` asks here, and gets options valid for
    at least :attr:`MARGIN` more seconds. Options without an expiry (static keys, the store's
    own credential chain) are resolved once. Without a resolver there are none (local disk).
    """

    #: resolve again this long before the expiry the store gave
    MARGIN = 300.0

    def __init__(self, resolve: Callable[[], Options] | None = None) -> None:
        self._resolve = resolve
        self._options: dict[str, str] | None = None
        self._expires: float | None = None
        self._lock = threading.Lock()

    def options(self) -> dict[str, str]:
        """The storage options, fresh for at least :attr:`MARGIN` seconds."""
        if self._resolve is None:
            return {}
        with self._lock:
            stale = self._expires is not None and time.time() >= self._expires - self.MARGIN
            if self._options is None or stale:
                self._options, self._expires = self._resolve()
            return dict(self._options)
