"""A task's work as plain, checked values: what it fetches and commits, and how.

Light to import (no data path): the operator builds a :class:`TaskSpec` from its rendered
arguments when a task runs; tests, benchmarks and the planner build one directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_fansly.client.ids import check_id
from airflow_provider_fansly.client.windows import Window
from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.ingest.inputs import parse_media_offer_ids, resolve_window
from airflow_provider_fansly.storage import layout

if TYPE_CHECKING:
    from airflow_provider_fansly.storage.rules import UnknownStatTypes

__all__ = ["TaskSpec", "task_spec"]


@dataclass(frozen=True)
class TaskSpec:
    """What one task fetches and commits, and how; checked values (see ``ingest.inputs``).

    ``run_id``, ``try_number`` and ``task`` name the try in the credit ledger and the commit;
    ``resume_max_age``: answers an earlier try staged within this age are reused.
    """

    account_id: str
    media_offer_ids: tuple[str, ...]
    window: Window
    period: int
    run_id: str
    try_number: int
    task: str
    unknown_stat_types: UnknownStatTypes = "warn"
    max_in_flight: int = 16
    on_gone: Literal["skip", "fail"] = "skip"
    on_invalid: Literal["fail", "quarantine"] = "fail"
    resume_max_age: timedelta = timedelta(hours=6)
    #: the planner's tier this task fetches for, recorded in the credit ledger
    tier: str | None = None

    @property
    def key(self) -> str:
        """The task's staging key: the same for every try of the same work."""
        after, before = self.window
        ids = list(self.media_offer_ids)
        return layout.task_key(self.account_id, ids, self.period, f"{after}-{before}")


def task_spec(
    *,
    account_id: str,
    media_offer_ids: str | list[str],
    after_date: int | str | datetime | None,
    before_date: int | str | datetime | None,
    lookback: timedelta | float | str | None,
    interval: tuple[Any, Any],
    period: int,
    **options: Any,
) -> TaskSpec:
    """Check a task's rendered arguments and resolve its window (the dates given, else the
    run's data ``interval``, widened by ``lookback``); a bad one is :class:`FanslyInputError`.

    ``options`` are the other fields of :class:`TaskSpec`, already checked at parse time.
    """
    try:
        account = check_id(account_id, "account_id")
        ids = tuple(parse_media_offer_ids(media_offer_ids))
        window = resolve_window(after_date, before_date, interval, lookback, period)
    except ValueError as error:
        raise FanslyInputError(str(error)) from error
    return TaskSpec(account, ids, window, period, **options)
