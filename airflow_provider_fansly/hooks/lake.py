"""LakeHook: a lake's output path and its Airflow connection turned into a :class:`Location`.

``output_path`` keeps Airflow's form: a plain path, ``file://...``, or
``s3://conn_id@bucket/path`` (likewise ``gs://`` and ``abfs://``). The ``conn_id@`` part names
the Airflow connection whose credentials are handed to delta-rs as storage options; this is
the one place a connection becomes credentials. They are registered as secrets (masked in
logs), never shown by ``repr``, and resolved again before they expire. The storage layer below
receives the Location and knows nothing of Airflow.
"""

from __future__ import annotations

import json
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook, ObjectStoragePath

from airflow_provider_fansly.exceptions import FanslyInputError

if TYPE_CHECKING:
    from airflow_provider_fansly.storage.location import Location, Options

__all__ = ["LakeHook", "lake_location"]

_SECRET_WORDS = ("SECRET", "KEY", "TOKEN")


class LakeHook(BaseHook):
    """Open the lake at ``output_path`` with the credentials of the connection it names.

    :param output_path: a local path, or an object store URL such as
        ``s3://aws_default@bucket/fansly`` (``aws``, ``google_cloud_platform`` or ``wasb``
        connections).
    """

    hook_name = "Fansly lake"

    def __init__(self, output_path: str) -> None:
        super().__init__()
        self.output_path = str(output_path)

    def get_conn(self) -> Location:
        """The lake's :class:`Location`; a bad connection fails here, before any work."""
        return lake_location(self.output_path)


def lake_location(output_path: str) -> Location:
    """The lake at ``output_path``: a local one as it is, a remote one through its connection."""
    # The storage layer (pyarrow) loads when a lake is opened, not when a DAG file is parsed.
    from airflow_provider_fansly.storage.location import REMOTE_PROTOCOLS, Credentials, Location
    from airflow_provider_fansly.storage.store import Store

    path = ObjectStoragePath(str(output_path))
    protocol = path.protocol if isinstance(path.protocol, str) else path.protocol[0]
    if protocol not in REMOTE_PROTOCOLS:
        return Location.parse(str(output_path))
    root = f"{protocol}://{path.bucket}/{path.key}".rstrip("/")
    credentials = Credentials(partial(storage_options, protocol, path.conn_id))
    credentials.options()  # a bad connection fails here, before any work
    store = Store(path.fs, path.path)
    return Location(str(output_path), root, protocol, path.conn_id, credentials, store)


def storage_options(protocol: str, conn_id: str | None) -> Options:
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


def _s3_options(conn_id: str) -> Options:
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
    extra = BaseHook.get_connection(conn_id).extra_dejson
    if extra.get("keyfile_dict"):
        key = extra["keyfile_dict"]
        return {"google_service_account_key": key if isinstance(key, str) else json.dumps(key)}
    if extra.get("key_path"):
        return {"google_service_account": str(extra["key_path"])}
    return {}


def _azure_options(conn_id: str) -> dict[str, str]:
    conn = BaseHook.get_connection(conn_id)
    options = {"azure_storage_account_name": conn.login, "azure_storage_account_key": conn.password}
    return {k: v for k, v in options.items() if v}
