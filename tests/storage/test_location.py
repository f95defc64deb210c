"""Where a lake lives: Airflow's URL forms, and credentials handed to delta-rs, never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_fansly.storage.location import Location


def test_plain_and_file_paths_are_absolute_local_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Location.parse("lake").root_uri == str(tmp_path / "lake")
    assert Location.parse(f"file://{tmp_path}/lake/").table_uri("media_stats") == (
        f"{tmp_path}/lake/media_stats"
    )
    assert Location.parse(str(tmp_path)).storage_options == {}


def test_s3_takes_the_named_connections_credentials_and_never_shows_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_LAKE_S3",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "AKIAEXAMPLE",
                "password": "very-secret-key",
                "extra": {
                    "endpoint_url": "http://127.0.0.1:9",
                    "region_name": "eu-west-1",
                    "delta_storage_options": {"aws_conditional_put": "etag"},
                },
            }
        ),
    )
    location = Location.parse("s3://lake_s3@my-bucket/fansly/prod")
    assert location.table_uri("fetch_log") == "s3://my-bucket/fansly/prod/fetch_log"
    assert location.conn_id == "lake_s3"
    assert location.storage_options == {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "very-secret-key",
        "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ALLOW_HTTP": "true",
        "aws_conditional_put": "etag",  # the connection's extra options for delta-rs
    }
    assert "very-secret-key" not in repr(location) and "very-secret-key" not in str(location)


def test_temporary_credentials_are_resolved_again_before_they_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An assumed role's keys expire; a long task's commit at its end must get new ones."""
    import airflow_provider_fansly.storage.location as location_module

    issued: list[float] = []
    now = [1_000_000.0]

    def assumed_role(conn_id: str) -> tuple[dict[str, str], float]:
        issued.append(now[0])
        key = f"key-{len(issued)}"
        return {"AWS_ACCESS_KEY_ID": key, "AWS_SESSION_TOKEN": f"t-{key}"}, now[0] + 3600

    monkeypatch.setattr(location_module, "_s3_options", assumed_role)
    monkeypatch.setattr(location_module.time, "time", lambda: now[0])
    location = Location.parse("s3://role_conn@bucket/lake")
    assert location.storage_options["AWS_ACCESS_KEY_ID"] == "key-1"
    now[0] += 3000  # 10 minutes before the expiry: still good
    assert location.storage_options["AWS_ACCESS_KEY_ID"] == "key-1"
    now[0] += 400  # within the margin
    assert location.storage_options["AWS_ACCESS_KEY_ID"] == "key-2"
    assert len(issued) == 2


def test_static_credentials_are_resolved_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow_provider_fansly.storage.location as location_module

    calls: list[str] = []

    def static(conn_id: str) -> tuple[dict[str, str], None]:
        calls.append(conn_id)
        return {"AWS_ACCESS_KEY_ID": "AKIA"}, None

    monkeypatch.setattr(location_module, "_s3_options", static)
    location = Location.parse("s3://static_conn@bucket/lake")
    for _ in range(3):
        assert location.storage_options == {"AWS_ACCESS_KEY_ID": "AKIA"}
    assert calls == ["static_conn"]


def test_bad_delta_storage_options_are_one_error_naming_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_fansly.exceptions import FanslyInputError

    extra = {"region_name": "eu-west-1", "delta_storage_options": ["aws_conditional_put"]}
    conn = {"conn_type": "aws", "login": "k", "password": "s", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_LAKE_S3", json.dumps(conn))
    with pytest.raises(FanslyInputError, match="'lake_s3': delta_storage_options must be"):
        Location.parse("s3://lake_s3@my-bucket/fansly")
