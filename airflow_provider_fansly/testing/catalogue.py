"""Catalogue accounts: the emulator's model of a real creator's catalogue, from one rule.

An account named ``catalogue-{N}-{P}`` (say ``catalogue-700-3``) has ``N`` media offers
posted over the year before :data:`START_MS` and ``P`` new posts every day from then on,
named ``m0``, ``m1``, ... in posting order. Each has a popularity drawn once (a few carry most
of the traffic: weights ``1 / r^1.1`` for a rank ``r`` hashed from its id) and views that
decay with age: a post's daily views fall to a quarter within its first week, then stay
there. A media offer has no statistics before the day it was posted.

Every number is a function of (account, media offer, day), as the rest of
:mod:`..synthetic`, so the media route, the ``profilestats`` route and the tests' truth
agree without talking to each other. Other account ids answer as before.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from airflow_provider_fansly.client.windows import DAY_MS

__all__ = ["START_MS", "Catalogue"]

#: Day 0 of every catalogue (2026-01-01): its first ``N`` media offers were posted before.
START_MS = 1_767_225_600_000
_NAME = re.compile(r"^catalogue-(\d{1,5})-(\d{1,3})$")
#: the views of the most popular media offer on its first day, all traffic sources together
_PEAK_VIEWS = 20_000
#: each traffic source's share of a media offer's views (0 For-You page, 1 direct, 2 other)
_SHARES = {0: 0.5, 1: 0.35, 2: 0.15}


def _unit(*parts: object) -> float:
    """A number in [0, 1) hashed from ``parts``."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def decay(age_days: int) -> float:
    """A post's daily views at ``age_days`` against its first day's: 1 on its first day, a
    quarter from its seventh on."""
    return 0.2 + 0.8 * 0.5 ** (age_days / 1.5)


@dataclass(frozen=True)
class Catalogue:
    """One catalogue account: ``initial`` media offers before day 0, ``per_day`` after."""

    account: str
    initial: int
    per_day: int

    @classmethod
    def of(cls, account: str) -> Catalogue | None:
        """The catalogue an account id names, or ``None`` for any other account."""
        found = _NAME.match(account)
        if found is None or int(found[1]) < 1:
            return None
        return cls(account, int(found[1]), int(found[2]))

    def index(self, media_offer_id: str) -> int | None:
        """The posting order of ``m{i}``, or ``None`` for an id this catalogue never posts."""
        if not re.fullmatch(r"m\d{1,7}", media_offer_id):
            return None
        return int(media_offer_id[1:])

    def created_ms(self, index: int) -> int:
        """When a media offer was posted (the start of its day, epoch ms)."""
        if index < self.initial:
            return START_MS - (1 + int(_unit(self.account, index, "age") * 365)) * DAY_MS
        if self.per_day == 0:
            return 2**62  # never: no new posts in this catalogue
        return START_MS + (index - self.initial) // self.per_day * DAY_MS

    def media_offer_ids(self, before_ms: int) -> list[str]:
        """Every media offer posted before ``before_ms``, in posting order."""
        days = max(0, -(-(before_ms - START_MS) // DAY_MS))
        posted = self.initial + days * self.per_day
        return [f"m{i}" for i in range(posted) if self.created_ms(i) < before_ms]

    def weight(self, index: int) -> float:
        """A media offer's popularity: ``1 / r^1.1`` for its hashed rank ``r``."""
        rank = 1 + int(_unit(self.account, index, "rank") * max(self.initial, 1))
        return 1 / rank**1.1

    def day_views(self, index: int, day_ms: int) -> int:
        """A media offer's views on one UTC day, all traffic sources together."""
        created = self.created_ms(index)
        if day_ms < created:
            return 0
        age = (day_ms - created) // DAY_MS
        return round(_PEAK_VIEWS * self.weight(index) * decay(age))

    def day_stat(self, media_offer_id: str, day_ms: int, kind: int) -> dict[str, Any] | None:
        """One traffic source's numbers of a day, shaped as the API's stat object; ``None``
        before the media offer was posted or when that source had no views."""
        index = self.index(media_offer_id)
        if index is None or kind not in _SHARES:
            return None
        views = round(self.day_views(index, day_ms) * _SHARES[kind])
        if views <= 0:
            return None
        jitter = _unit(self.account, index, day_ms, kind)
        preview = views // 3
        return {
            "type": kind,
            "views": views,
            "previewViews": preview,
            "interactionTime": views * (4_000 + int(jitter * 20_000)),
            "previewInteractionTime": preview * 1_500,
            "uniqueViewers": max(1, int(views * (0.6 + 0.3 * jitter))),
            "previewUniqueViewers": int(preview * 0.8),
        }
