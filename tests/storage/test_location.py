"""Where a lake lives, without Airflow: local roots, and options resolved again before expiry."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.storage.location import Credentials, Location


def test_plain_and_file_paths_are_absolute_local_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Location.parse("lake").root_uri == str(tmp_path / "lake")
    assert Location.parse(f"file://{tmp_path}/lake/").table_uri("media_stats") == (
        f"{tmp_path}/lake/media_stats"
    )
    assert Location.parse(str(tmp_path)).storage_options == {}


def test_a_lake_on_an_object_store_needs_the_lake_hook() -> None:
    hint = r"open it with airflow_provider_fansly\.hooks\.lake"
    with pytest.raises(FanslyInputError, match=hint):
        Location.parse("s3://aws_default@bucket/lake")


def test_temporary_credentials_are_resolved_again_before_they_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An assumed role's keys expire; a long task's commit at its end must get new ones."""
    import airflow_provider_fansly.storage.location as location_module

    issued: list[float] = []
    now = [1_000_000.0]

    def assumed_role() -> tuple[dict[str, str], float]:
        issued.append(now[0])
        key = f"key-{len(issued)}"
        return {"AWS_ACCESS_KEY_ID": key, "AWS_SESSION_TOKEN": f"t-{key}"}, now[0] + 3600

    monkeypatch.setattr(location_module.time, "time", lambda: now[0])
    credentials = Credentials(assumed_role)
    assert credentials.options()["AWS_ACCESS_KEY_ID"] == "key-1"
    now[0] += 3000  # 10 minutes before the expiry: still good
    assert credentials.options()["AWS_ACCESS_KEY_ID"] == "key-1"
    now[0] += 400  # within the margin
    assert credentials.options()["AWS_ACCESS_KEY_ID"] == "key-2"
    assert len(issued) == 2


def test_static_credentials_are_resolved_once() -> None:
    calls: list[int] = []

    def static() -> tuple[dict[str, str], None]:
        calls.append(1)
        return {"AWS_ACCESS_KEY_ID": "AKIA"}, None

    credentials = Credentials(static)
    for _ in range(3):
        assert credentials.options() == {"AWS_ACCESS_KEY_ID": "AKIA"}
    assert calls == [1]
