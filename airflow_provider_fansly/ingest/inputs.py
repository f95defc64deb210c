"""A task's inputs, checked: media offer ids, batches for mapping, the window and lookback.

Pure functions of the operator's (rendered) arguments and the run's data interval; each bad
value raises ``ValueError`` naming the argument and the fix.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_fansly.client.ids import check_id
from airflow_provider_fansly.client.windows import DAY_MS, Window, check_window, to_epoch_ms

__all__ = [
    "account_media",
    "batches",
    "check_options",
    "lookback_ms",
    "parse_media_offer_ids",
    "resolve_window",
]


def parse_media_offer_ids(value: str | Sequence[str]) -> list[str]:
    """Accept one id, a list, or a JSON / Python list rendered by a template; check each.

    Duplicates are dropped (first one wins) so that no media offer is fetched twice.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = ast.literal_eval(text)
        else:
            value = [text]
    ids = list(dict.fromkeys(check_id(v, "media_offer_id") for v in value))
    if not ids:
        raise ValueError("media_offer_ids is empty: give at least one media offer id")
    return ids


def account_media(value: str | Mapping[str, Sequence[str]], what: str) -> dict[str, list[str]]:
    """``{account: [media offer ids]}`` from a mapping or its JSON, each id checked; a list
    may be empty. ``what`` names the argument or Variable in the error."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError as error:
        raise ValueError(f"{what} is not JSON: {error}") from None
    if not isinstance(parsed, Mapping) or not parsed:
        raise ValueError(f"{what} must be a JSON object {{account_id: [media offer ids]}}")
    return {
        check_id(account, "account_id"): [check_id(m, "media_offer_id") for m in ids]
        for account, ids in parsed.items()
    }


def batches(value: str | Sequence[str], size: int) -> list[list[str]]:
    """Cut a list of media offer ids (or its JSON) into batches for dynamic task mapping.

    The ids are sorted first, so each batch holds a contiguous range of ids. A batch's data
    files then have min/max statistics that no other batch's rows fall into, and Delta's
    conflict check (which prunes by those statistics) lets batches of one day commit at the
    same time without retrying. Re-cutting, as a new id shifts the ranges, is safe: each
    task replaces exactly its own media offers' rows.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    ids = sorted(parse_media_offer_ids(value))
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def lookback_ms(lookback: timedelta | float | str | None) -> int:
    """Turn a lookback (a timedelta, or days as a number or its text) into milliseconds."""
    if lookback is None or lookback == "":
        return 0
    try:
        ms = (
            int(lookback.total_seconds() * 1000)
            if isinstance(lookback, timedelta)
            else int(float(lookback) * DAY_MS)
        )
    except (TypeError, ValueError):
        raise ValueError(
            f"lookback must be a timedelta or a number of days, got {lookback!r}"
        ) from None
    if ms < 0:
        raise ValueError(f"lookback must not be negative, got {lookback!r}")
    return ms


def resolve_window(
    after_date: int | str | datetime | None,
    before_date: int | str | datetime | None,
    interval: tuple[Any, Any],
    lookback: timedelta | float | str | None,
    period: int,
) -> Window:
    """Return ``[after, before)`` in epoch ms: the dates given, else the run's data interval;
    then widened by ``lookback``. Refuse impossible windows by name."""
    given = [d not in (None, "") for d in (after_date, before_date)]
    if any(given):
        if not all(given):
            raise ValueError("give both after_date and before_date, or neither")
        after = to_epoch_ms(after_date, "after_date")  # type: ignore[arg-type]
        before = to_epoch_ms(before_date, "before_date")  # type: ignore[arg-type]
    else:
        start, end = interval
        if start is None or end is None:
            raise ValueError(
                "this run has no data interval (a manual run without a logical date?): "
                "pass after_date and before_date, or trigger it with a logical date"
            )
        after, before = to_epoch_ms(start), to_epoch_ms(end)
    check_window(after, before, period)
    after -= lookback_ms(lookback)
    check_window(after, before, period)
    return after, before


_STAT_TYPE_POLICIES = ("warn", "fail", "drop")


def check_options(
    *,
    period: Any,
    unknown_stat_types: str,
    max_in_flight: int,
    on_gone: str,
    on_invalid: str,
    resume_max_age: Any,
    max_rate_limit_wait: float | None,
    lookback: Any,
) -> None:
    """Refuse a bad operator argument when the DAG is parsed, naming it and what it takes."""
    choices = {
        "unknown_stat_types": (unknown_stat_types, _STAT_TYPE_POLICIES),
        "on_gone": (on_gone, ("skip", "fail")),
        "on_invalid": (on_invalid, ("fail", "quarantine")),
    }
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    if not isinstance(period, int) or period <= 0:
        raise ValueError(f"period must be a positive number of milliseconds, got {period!r}")
    if max_in_flight < 1:
        raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
    if not isinstance(resume_max_age, timedelta) or resume_max_age < timedelta(0):
        raise ValueError(f"resume_max_age must be a timedelta of 0 or more, got {resume_max_age!r}")
    if max_rate_limit_wait is not None and not max_rate_limit_wait >= 0:
        raise ValueError(
            f"max_rate_limit_wait must be 0 or more seconds, got {max_rate_limit_wait!r}"
        )
    if not isinstance(lookback, str):
        lookback_ms(lookback)  # a template is checked when it renders
