"""The retry rules, as pure functions shared by the sync and async request paths."""

from __future__ import annotations

import random
from dataclasses import dataclass

from airflow_provider_fansly.exceptions import (
    FanslyAnswerMismatchError,
    FanslyBudgetExceededError,
    FanslyCommitConflictError,
    FanslyDataError,
    FanslyGoneError,
    FanslyInputError,
    FanslyLakeError,
    FanslyMalformedAnswerError,
    FanslyNotFoundError,
    FanslyRateLimitError,
    FanslyRequestError,
    FanslyServerError,
    FanslyTransportError,
    FanslyUpstreamError,
)

__all__ = ["RetryPolicy", "is_gone", "is_retryable", "permanent_reason"]


def is_gone(error: BaseException) -> bool:
    """Whether an error says the media offer itself is gone (deleted, or not found).

    A permanent "error getting graph" (already asked once more) or a 404. When every media
    offer of a task answers so, the cause is the account or the window instead.
    """
    if isinstance(error, FanslyUpstreamError):
        return error.permanent
    return isinstance(error, FanslyNotFoundError)


def is_retryable(error: FanslyRequestError, attempt: int) -> bool:
    """Say whether ``error`` on try number ``attempt`` (1-based) deserves another try.

    4xx answers (400, 401, 402, 403, 404) never change on retry; a permanent upstream error
    ("error getting graph") and an answer to another question each get exactly one more try,
    in case it was a passing fault (a proxy's mix-up).
    """
    if isinstance(error, FanslyUpstreamError):
        return not error.permanent or attempt < 2
    if isinstance(error, FanslyAnswerMismatchError):
        return attempt < 2
    return isinstance(
        error,
        FanslyRateLimitError
        | FanslyServerError
        | FanslyTransportError
        | FanslyMalformedAnswerError,
    )


_PERMANENT: tuple[tuple[type[Exception], str], ...] = (
    (FanslyInputError, "the task's arguments are wrong; fix them"),
    (FanslyBudgetExceededError, "the budget is the same on every try; raise max_requests"),
    (FanslyDataError, "the API would send the same numbers again"),
    (FanslyGoneError, "the account or the window is refused, not a media offer; check them"),
    (FanslyLakeError, "the lake must be fixed first"),
)


def permanent_reason(error: BaseException) -> str | None:
    """Say why a failed task must not be retried by Airflow, or ``None`` if a retry may help.

    A retry re-buys every request, so only failures that can pass are left to Airflow's
    retries: 429s, 5xx, transport errors, truncated answers and lost commit races.
    """
    if isinstance(error, FanslyCommitConflictError):
        return None
    if isinstance(error, FanslyRequestError):
        return (
            None
            if is_retryable(error, attempt=2)
            else "the API answers this request the same way every time"
        )
    return next((why for kind, why in _PERMANENT if isinstance(error, kind)), None)


@dataclass(frozen=True)
class RetryPolicy:
    """How many tries and how long to wait between them; bounded in count and total time."""

    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_total_wait: float = 600.0

    def delay(self, error: FanslyRequestError, attempt: int) -> float:
        """Return the wait before try ``attempt + 1``: the server's advice, else full jitter."""
        if isinstance(error, FanslyRateLimitError) and error.retry_after is not None:
            return min(error.retry_after, self.backoff_max)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def should_retry(self, error: FanslyRequestError, attempt: int, waited: float) -> bool:
        """Say whether to try again given the tries made and the seconds already waited."""
        return (
            attempt <= self.max_retries
            and waited < self.max_total_wait
            and is_retryable(error, attempt)
        )
