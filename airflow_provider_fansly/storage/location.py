"""Where a lake lives: Airflow's URL form in, Delta table URIs and delta-rs credentials out.

``output_path`` keeps Airflow's form: a plain path, ``file://...``, or
``s3://conn_id@bucket/path`` (likewise ``gs://`` and ``abfs://``). The ``conn_id@`` part names
the Airflow connection whose credentials are handed to delta-rs as storage options; they are
registered as secrets (masked in logs) and never shown by ``repr``.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.storage.store import Store

__all__ = ["Credentials", "Location"]

_SECRET_WORDS = ("SECRET", "KEY", "TOKEN")

_REMOTE = ("s3", "s3a", "gs", "gcs", "abfs", "abfss", "az")


@dataclass(frozen=True)
class Location:
    """One lake root: its Delta URIs, the storage options delta-rs needs, and its file store."""

    output_path: str
    root_uri: str
    protocol: str
    conn_id: str | None
    credentials: Credentials = field(repr=False, compare=False)

    @property
    def storage_options(self) -> dict[str, str]:
        """What delta-rs needs to reach the store, resolved again once they expire."""
        return self.credentials.options()

    @classmethod
    def parse(cls, output_path: str) -> Location:
        """Parse ``output_path``; look up the credentials of the connection it names."""
        from airflow.sdk import ObjectStoragePath

        path = ObjectStoragePath(str(output_path))
        protocol = path.protocol if isinstance(path.protocol, str) else path.protocol[0]
        if protocol in _REMOTE:
            root = f"{protocol}://{path.bucket}/{path.key}".rstrip("/")
            credentials = Credentials(protocol, path.conn_id)
            credentials.options()  # a bad connection fails here, before any work
        else:
            root = os.path.abspath(path.path).rstrip("/") or "/"
            credentials = Credentials(protocol, None)
        return cls(str(output_path), root, protocol, path.conn_id, credentials)

    def table_uri(self, name: str) -> str:
        """Return the URI of one table (or folder) under the root."""
        return f"{self.root_uri}/{name}"

    @cached_property
    def store(self) -> Store:
        """The root as files (staging, legacy detection), on the same store as the tables."""
        return Store(self.output_path)

    def __str__(self) -> str:
        return self.root_uri


class Credentials:
    """A connection's storage options, kept until they expire, then resolved again.

    Temporary credentials (an assumed role, a web identity) expire, and a long task commits at
    its end: each use of :attr:`Location.storage_options` asks here, and gets options valid for
    at least :attr:`MARGIN` more seconds. Options without an expiry (static keys, the store's
    own credential chain) are resolved once.
    """

    #: resolve again this long before the expiry the store gave
    MARGIN = 300.0

    def __init__(self, protocol: str, conn_id: str | None) -> None:
        self.protocol = protocol
        self.conn_id = conn_id
        self._options: dict[str, str] | None = None
        self._expires: float | None = None
        self._lock = threading.Lock()

    def options(self) -> dict[str, str]:
        """The storage options, fresh for at least :attr:`MARGIN` seconds."""
        with self._lock:
            stale = self._expires is not None and time.time() >= self._expires - self.MARGIN
            if self._options is None or stale:
                self._options, self._expires = _storage_options(self.protocol, self.conn_id)
            return dict(self._options)


def _storage_options(protocol: str, conn_id: str | None) -> tuple[dict[str, str], float | None]:
    """delta-rs storage options from the Airflow connection ``conn_id`` (empty: the default
    credential chain of the store, e.g. ``AWS_*`` variables or an instance role), and when
    they expire (epoch seconds; ``None``: never)."""
    if conn_id is None:
        return {}, None
    expires: float | None = None
    if protocol.startswith("s3"):
        options, expires = _s3_options(conn_id)
    elif protocol.startswith("g"):
        options = _gcs_options(conn_id)
    else:
        options = _azure_options(conn_id)
    _mask({k: v for k, v in options.items() if any(w in k.upper() for w in _SECRET_WORDS)})
    return options, expires


def _mask(secrets: dict[str, str]) -> None:
    from airflow.sdk.log import mask_secret

    for value in secrets.values():
        mask_secret(value)


def _s3_options(conn_id: str) -> tuple[dict[str, str], float | None]:
    from airflow.providers.amazon.aws.hooks.base_aws import AwsGenericHook

    hook: Any = AwsGenericHook(aws_conn_id=conn_id, client_type="s3")
    live = hook.get_session().get_credentials()  # refreshable when the role is assumed
    creds = live.get_frozen_credentials()
    expiry = getattr(live, "_expiry_time", None)  # botocore's RefreshableCredentials
    config = hook.conn_config
    options = {
        "AWS_ACCESS_KEY_ID": creds.access_key,
        "AWS_SECRET_ACCESS_KEY": creds.secret_key,
        "AWS_SESSION_TOKEN": creds.token,
        "AWS_REGION": config.region_name or hook.region_name,
        "AWS_ENDPOINT_URL": config.endpoint_url,
    }
    if str(config.endpoint_url or "").startswith("http://"):
        options["AWS_ALLOW_HTTP"] = "true"
    options.update(_delta_options(conn_id, config.extra_config.get("delta_storage_options")))
    expires = expiry.timestamp() if expiry is not None else None
    return {k: str(v) for k, v in options.items() if v}, expires


def _delta_options(conn_id: str, extra: Any) -> dict[str, str]:
    """What an S3-compatible store needs beyond credentials, from the connection's extra
    ``delta_storage_options`` (e.g. ``{"aws_conditional_put": "etag"}``)."""
    if extra is None:
        return {}
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        raise FanslyInputError(
            f"the connection {conn_id!r}: delta_storage_options must be a JSON object of "
            f"strings (delta-rs storage options), got {extra!r}"
        )
    return dict(extra)


def _gcs_options(conn_id: str) -> dict[str, str]:
    from airflow.sdk import BaseHook

    extra = BaseHook.get_connection(conn_id).extra_dejson
    if extra.get("keyfile_dict"):
        key = extra["keyfile_dict"]
        return {"google_service_account_key": key if isinstance(key, str) else _json(key)}
    if extra.get("key_path"):
        return {"google_service_account": str(extra["key_path"])}
    return {}


def _azure_options(conn_id: str) -> dict[str, str]:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    options = {"azure_storage_account_name": conn.login, "azure_storage_account_key": conn.password}
    return {k: v for k, v in options.items() if v}


def _json(value: Any) -> str:
    import json

    return json.dumps(value)
