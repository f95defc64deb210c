"""The lake hook: Airflow's URL forms and connections in, credentials handed to delta-rs out,
never shown."""

from __future__ import annotations

import json

import pytest

from airflow_provider_fansly.hooks.lake import LakeHook, lake_location


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
    location = LakeHook("s3://lake_s3@my-bucket/fansly/prod").get_conn()
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


def test_bad_delta_storage_options_are_one_error_naming_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_fansly.exceptions import FanslyInputError

    extra = {"region_name": "eu-west-1", "delta_storage_options": ["aws_conditional_put"]}
    conn = {"conn_type": "aws", "login": "k", "password": "s", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_LAKE_S3", json.dumps(conn))
    with pytest.raises(FanslyInputError, match="'lake_s3': delta_storage_options must be"):
        lake_location("s3://lake_s3@my-bucket/fansly")


def test_a_role_is_asked_again_through_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook hands the Location a resolver: each expiry asks the connection again."""
    import airflow_provider_fansly.hooks.lake as lake_module
    import airflow_provider_fansly.storage.location as location_module

    now, asked = [1_000_000.0], []

    def assumed_role(conn_id: str) -> tuple[dict[str, str], float]:
        asked.append(conn_id)
        return {"AWS_ACCESS_KEY_ID": f"key-{len(asked)}"}, now[0] + 3600

    monkeypatch.setattr(lake_module, "_s3_options", assumed_role)
    monkeypatch.setattr(location_module.time, "time", lambda: now[0])
    location = LakeHook("s3://role_conn@bucket/lake").get_conn()
    now[0] += 3400
    assert location.storage_options["AWS_ACCESS_KEY_ID"] == "key-2"
    assert asked == ["role_conn", "role_conn"]


def test_a_local_path_needs_no_connection(tmp_path: object) -> None:
    assert lake_location(str(tmp_path)).storage_options == {}
