"""The account's statistics (``profilestats``): the client against the emulator over HTTP, the
answer checked against its question, and the emulator's catalogue accounts as real accounts
behave (new posts daily, a few posts carrying most views, views fading with age)."""

from __future__ import annotations

import json
from collections import defaultdict

import httpx
import pytest

from airflow_provider_fansly.client import ClientSettings, FanslyClient
from airflow_provider_fansly.client.profilestats import parse_profile_stats
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.exceptions import (
    FanslyAnswerMismatchError,
    FanslyInputError,
    FanslyMalformedAnswerError,
    RequestContext,
)
from airflow_provider_fansly.testing.catalogue import START_MS, Catalogue
from airflow_provider_fansly.testing.emulator import DEFAULT_KEY, Emulator
from airflow_provider_fansly.testing.emulator.answers import platform, profile_dataset
from airflow_provider_fansly.testing.synthetic import expected_rows

ACCOUNT = "catalogue-300-3"
DAY = START_MS + 10 * DAY_MS  # day 10: 30 posts since day 0


def client(emu: Emulator) -> FanslyClient:
    return FanslyClient(ClientSettings.from_connection(emu.url, DEFAULT_KEY, {}))


def views_by_media(
    account: str, ids: list[str], after: int, before: int, kinds: set[int]
) -> dict[str, int]:
    """What the media route serves, summed per media offer (the emulator's truth)."""
    found: dict[str, int] = defaultdict(int)
    for media in ids:
        for row in expected_rows(account, media, after, before, DAY_MS):
            if row["stat_type"] in kinds:
                found[media] += row["views"]
    return found


@pytest.mark.parametrize("period", [DAY_MS, HOUR_MS])
def test_the_top_lists_and_the_accounts_traffic_equal_the_media_answers(
    emu: Emulator, period: int
) -> None:
    with client(emu) as api:
        stats = api.get_profile_stats(ACCOUNT, after=DAY, before=DAY + DAY_MS, period=period)
    assert emu.state.counts["requests"] == 1  # one credit
    ids = Catalogue.of(ACCOUNT).media_offer_ids(DAY + DAY_MS)  # type: ignore[union-attr]
    every = views_by_media(ACCOUNT, ids, DAY, DAY + DAY_MS, {0, 1, 2})
    fyp = views_by_media(ACCOUNT, ids, DAY, DAY + DAY_MS, {0})
    top = [(t.media_offer_id, t.views) for t in stats.top_media_offers]
    ranked = sorted(every.items(), key=lambda kv: (-kv[1], kv[0]))[:50]
    assert top == ranked and [t.rank for t in stats.top_media_offers] == list(range(1, 51))
    fyp_top = [(t.media_offer_id, t.views) for t in stats.top_fyp_media_offers]
    assert fyp_top == sorted(fyp.items(), key=lambda kv: (-kv[1], kv[0]))[:50]
    assert sum(s.views for s in stats.rows.stats) == sum(every.values())
    assert all(DAY <= t < DAY + DAY_MS and t % period == 0 for t in stats.rows.times)
    listed = {m.id: m.created_at_s for m in stats.media}
    catalogue = Catalogue.of(ACCOUNT)
    assert catalogue is not None and set(listed) == {m for m, _ in top} | {m for m, _ in fyp_top}
    assert all(s == catalogue.created_ms(int(m[1:])) // 1000 for m, s in listed.items())


def test_a_catalogue_behaves_as_real_accounts_do() -> None:
    catalogue = Catalogue.of("catalogue-700-3")
    assert catalogue is not None
    ids = catalogue.media_offer_ids(DAY + DAY_MS)
    assert len(ids) == 700 + 11 * 3  # new posts every day, day 0 included
    views = sorted(views_by_media(catalogue.account, ids, DAY, DAY + DAY_MS, {0, 1, 2}).values())
    top_tenth = sum(views[-len(ids) // 10 :])
    assert top_tenth >= 0.6 * sum(views)  # a few posts carry most of a day's views
    new = f"m{700 + 10 * 3}"  # posted on day 10
    first_week = [catalogue.day_views(int(new[1:]), DAY + d * DAY_MS) for d in range(8)]
    assert first_week[6] * 2 <= first_week[0] and first_week == sorted(first_week, reverse=True)
    before_it = expected_rows(catalogue.account, new, DAY - 5 * DAY_MS, DAY, DAY_MS)
    assert before_it == [] and expected_rows(catalogue.account, new, DAY, DAY + DAY_MS, DAY_MS)


def test_other_accounts_answer_empty_lists_and_media_answers_are_unchanged(emu: Emulator) -> None:
    with client(emu) as api:
        stats = api.get_profile_stats("fansly_demo", after=DAY, before=DAY + DAY_MS)
    assert (stats.top_media_offers, stats.rows.stats, stats.media) == ([], [], [])


def test_a_window_over_the_bucket_cap_is_refused_before_any_request(emu: Emulator) -> None:
    with client(emu) as api, pytest.raises(FanslyInputError, match="at most 99 buckets"):
        api.get_profile_stats(ACCOUNT, after=DAY, before=DAY + 100 * DAY_MS)
    assert emu.state.counts["requests"] == 0


CTX = RequestContext("account statistics", ACCOUNT, None, DAY, DAY + DAY_MS, DAY_MS)


def answer(edit: object = None) -> bytes:
    """The emulator's answer for the day, edited by ``edit(dataset)``."""
    body = profile_dataset(ACCOUNT, DAY, DAY + DAY_MS, DAY_MS)
    if callable(edit):
        edit(body)
    return json.dumps(platform(body)).encode()


def parse(body: bytes):  # type: ignore[no-untyped-def]
    return parse_profile_stats(200, body, httpx.Headers(), CTX, (DAY, DAY + DAY_MS, DAY_MS))


def test_a_broken_field_is_one_error_naming_it() -> None:
    def wrong_id(body: dict) -> None:  # type: ignore[type-arg]
        body["dataset"]["topMediaOffers"][0]["mediaOfferId"] = 7

    with pytest.raises(
        FanslyMalformedAnswerError, match=r"\$\.dataset\.topMediaOffers\[0\]\.mediaOfferId"
    ):
        parse(answer(wrong_id))


def test_another_period_or_a_bucket_outside_the_window_is_refused() -> None:
    def hourly(body: dict) -> None:  # type: ignore[type-arg]
        body["dataset"]["period"] = HOUR_MS

    def outside(body: dict) -> None:  # type: ignore[type-arg]
        body["dataset"]["datapoints"][0]["timestamp"] = DAY - DAY_MS

    with pytest.raises(FanslyAnswerMismatchError, match="period 3600000"):
        parse(answer(hourly))
    with pytest.raises(FanslyAnswerMismatchError, match="outside the window"):
        parse(answer(outside))


def test_the_unverified_parts_are_read_tolerantly() -> None:
    def loose(body: dict) -> None:  # type: ignore[type-arg]
        data = body["dataset"]
        data["topFypMediaOffers"][0] |= {"uniqueViewers": 12, "tagIds": ["7001"], "new": 1}
        data["profileDatapoints"] = [{"timestamp": DAY, "stats": [{"type": 4}]}]
        del data["topFypTags"]
        body["aggregationData"]["accountMedia"].append({"id": "m1", "media": "not an object"})

    stats = parse(answer(loose))
    assert stats.top_fyp_media_offers[0].unique_viewers == 12
    assert stats.profile[0].views is None and stats.top_tags == []
    assert len(stats.top_media_offers) == 50
