"""The emulator itself: it must answer the way the reference says the vendor does."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY, Emulator

D0 = 1_771_200_000_000
KEY = {"x-api-key": DEFAULT_KEY}


def media(url: str, after: int, before: int, period: int = DAY_MS, **kw: object) -> httpx.Response:
    return httpx.get(
        f"{url}/api/fansly/{DEFAULT_ACCOUNT}/analytics/media/m1",
        params={"afterDate": after, "beforeDate": before, "period": period},
        headers=KEY,
        **kw,
    )  # type: ignore[arg-type]


def test_buckets_are_newest_first_aligned_and_include_before_date(emu: Emulator) -> None:
    answer = media(emu.url, D0, D0 + 10 * DAY_MS).json()
    ds = answer["data"]["data"]["response"]["dataset"]
    stamps = [p["timestamp"] for p in ds["datapoints"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(s % DAY_MS == 0 for s in stamps)
    assert ds["dateBefore"] == D0 + 10 * DAY_MS and ds["datapointLimit"] == 100
    assert answer["statusCode"] == 200 and answer["data"]["status_code"] == 200


def test_quiet_buckets_are_empty_or_left_out(emu: Emulator) -> None:
    ds = media(emu.url, D0, D0 + 99 * DAY_MS, DAY_MS).json()["data"]["data"]["response"]["dataset"]
    assert len(ds["datapoints"]) < 100  # some left out
    assert any(p["stats"] == [] for p in ds["datapoints"])


def test_hourly_buckets_split_their_day_exactly(emu: Emulator) -> None:
    d1 = D0 + DAY_MS  # D0 is a quiet day for m1

    def dataset(period: int) -> dict[str, object]:
        answer = media(emu.url, d1, d1 + DAY_MS, period).json()
        return answer["data"]["data"]["response"]["dataset"]  # type: ignore[no-any-return]

    (daily,) = [p for p in dataset(DAY_MS)["datapoints"] if p["timestamp"] == d1]
    assert daily["stats"]
    totals: dict[int, int] = {}
    for point in dataset(HOUR_MS)["datapoints"]:
        if d1 <= point["timestamp"] < d1 + DAY_MS:
            for s in point["stats"]:
                assert s["uniqueViewers"] <= s["views"]
                totals[s["type"]] = totals.get(s["type"], 0) + s["views"]
    assert totals == {s["type"]: s["views"] for s in daily["stats"]}


def test_one_answer_carries_at_most_100_buckets_the_newest(emu: Emulator) -> None:
    ds = media(emu.url, D0, D0 + 300 * HOUR_MS, HOUR_MS).json()["data"]["data"]["response"][
        "dataset"
    ]
    assert min(p["timestamp"] for p in ds["datapoints"]) >= D0 + 201 * HOUR_MS


def test_rate_limit_headers_and_429(emu: Emulator) -> None:
    emu.config.rate_limit = 2
    first = media(emu.url, D0, D0 + DAY_MS)
    assert (
        first.headers["x-ratelimit-limit"] == "2" and first.headers["x-ratelimit-remaining"] == "1"
    )
    media(emu.url, D0, D0 + DAY_MS)
    refused = media(emu.url, D0, D0 + DAY_MS)
    assert refused.status_code == 429
    assert int(refused.headers["x-ratelimit-retry-after"]) >= 1
    assert refused.json()["data"] is None and "Rate limit" in refused.json()["message"]


def test_wrong_key_unknown_account_and_bad_params(emu: Emulator) -> None:
    assert (
        httpx.get(f"{emu.url}/api/fansly/accounts", headers={"x-api-key": "no"}).status_code == 401
    )
    unknown = httpx.get(f"{emu.url}/api/fansly/nobody/analytics/media/m1", headers=KEY)
    assert unknown.status_code == 404
    bad = httpx.get(
        f"{emu.url}/api/fansly/{DEFAULT_ACCOUNT}/analytics/media/m1",
        params={"period": "soon"},
        headers=KEY,
    )
    assert bad.status_code == 400 and bad.json()["message"] == "Invalid request parameters"


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("negative_counts", lambda s: s["views"] < 0),
        ("unique_gt_views", lambda s: s["uniqueViewers"] > s["views"]),
        ("unknown_stat_type", lambda s: s["type"] == 97),
        ("extra_fields", lambda s: "newShinyMetric" in s),
    ],
    ids=["negative", "unique>views", "unknown-type", "extra-field"],
)
def test_data_faults_corrupt_the_answer(emu: Emulator, kind: str, check: object) -> None:
    emu.add_faults({"kind": kind})
    points = media(emu.url, D0, D0 + 5 * DAY_MS).json()["data"]["data"]["response"]["dataset"][
        "datapoints"
    ]
    assert any(check(s) for p in points for s in p["stats"])  # type: ignore[operator]


@pytest.fixture
def cli_emulator(tmp_path: Path) -> Iterator[str]:
    port_file = tmp_path / "port"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_fansly.testing.emulator",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--api-key",
            "cli-key",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_command_line_emulator_serves_and_takes_faults_over_http(cli_emulator: str) -> None:
    accounts = httpx.get(f"{cli_emulator}/api/fansly/accounts", headers={"x-api-key": "cli-key"})
    assert accounts.status_code == 200 and accounts.json()["data"][0]["id"] == DEFAULT_ACCOUNT
    assert (
        httpx.post(
            f"{cli_emulator}/_emulator/faults", json=[{"kind": "bad_gateway_html"}]
        ).status_code
        == 200
    )
    broken = httpx.get(
        f"{cli_emulator}/api/fansly/{DEFAULT_ACCOUNT}/analytics/media/m1",
        headers={"x-api-key": "cli-key"},
    )
    assert broken.status_code == 502 and broken.text.startswith("<html>")
    assert httpx.get(f"{cli_emulator}/_emulator/stats").json()["requests"] == 2
    assert (
        httpx.post(f"{cli_emulator}/_emulator/faults", json=[{"kind": "nope"}]).status_code == 400
    )


def test_fyp_tags_never_exceed_the_for_you_page_numbers_of_the_same_buckets() -> None:
    from airflow_provider_fansly.testing.emulator.answers import dataset as answer
    from airflow_provider_fansly.testing.synthetic import TAG_NAMES

    seen = 0
    for media in [f"t{i}" for i in range(30)]:
        response = answer("fansly_demo", media, D0, D0 + 20 * DAY_MS, DAY_MS)
        fyp = [s for p in response["dataset"]["datapoints"] for s in p["stats"] if s["type"] == 0]
        names = {t["id"]: t["tag"] for t in response["aggregationData"]["tags"]}
        for tag in response["dataset"]["topFypTags"]:
            seen += 1
            assert names[tag["tagId"]] == TAG_NAMES[tag["tagId"]]
            for key in ("views", "previewViews", "interactionTime", "previewInteractionTime"):
                assert 0 <= tag[key] <= sum(s[key] for s in fyp)
    assert seen > 10
