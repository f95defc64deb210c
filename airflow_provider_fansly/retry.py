"""The retry rules, as pure functions shared by the sync and async request paths."""

from __future__ import annotations

import random
from dataclasses import dataclass

from airflow_provider_fansly.exceptions import (
    FanslyAnswerMismatchError,
    FanslyMalformedAnswerError,
    FanslyRateLimitError,
    FanslyRequestError,
    FanslyServerError,
    FanslyTransportError,
    FanslyUpstreamError,
)

__all__ = ["RetryPolicy", "is_retryable"]


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
