"""The retry rules, as pure functions shared by the sync and async request paths."""

from __future__ import annotations

import random
from dataclasses import dataclass

from airflow_provider_fansly.exceptions import (
    FanslyAnswerMismatchError,
    FanslyMalformedAnswerError,
    FanslyNotFoundError,
    FanslyRateLimitError,
    FanslyRequestError,
    FanslyServerError,
    FanslyTransportError,
    FanslyUpstreamError,
)

__all__ = ["RetryPolicy", "Tries", "is_gone", "is_retryable"]


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


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: failures by count and total wait, 429s by time alone.

    A 429 means the server is answering and asks for patience, so it is waited out (its
    advice each time, whatever it is) until ``max_rate_limit_wait`` seconds have passed for
    one request; other failures get ``max_retries`` retries with jittered exponential backoff.
    ``max_sends`` bounds the loop whatever the waits are.
    """

    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    max_total_wait: float = 600.0
    max_rate_limit_wait: float = 900.0
    max_sends: int = 1000

    def delay(self, error: FanslyRequestError, attempt: int) -> float:
        """Return the wait before try ``attempt + 1``: a 429's advice, else full jitter."""
        if isinstance(error, FanslyRateLimitError) and error.retry_after is not None:
            return max(0.05, error.retry_after)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


@dataclass
class Tries:
    """What one logical request went through: failures counted, 429 waits timed."""

    failures: int = 0
    waited: float = 0.0
    throttles: int = 0
    throttled: float = 0.0

    def after(self, error: FanslyRequestError, policy: RetryPolicy) -> float:
        """Count a failed send and return the wait before the next; raise when spent."""
        if isinstance(error, FanslyRateLimitError):
            self.throttles += 1
            delay = policy.delay(error, self.throttles)
            if self.throttled + delay > policy.max_rate_limit_wait:
                raise FanslyRateLimitError(
                    f"still rate limited after waiting {self.throttled:.0f} s over "
                    f"{self.throttles} answer(s) of 429; max_rate_limit_wait is "
                    f"{policy.max_rate_limit_wait:g} s",
                    error.context,
                    status_code=error.status_code,
                    api_message=error.api_message,
                    retry_after=error.retry_after,
                ) from error
            self.throttled += delay
            return delay
        self.failures += 1
        if not (
            self.failures <= policy.max_retries
            and self.waited < policy.max_total_wait
            and is_retryable(error, self.failures)
        ):
            raise error
        delay = policy.delay(error, self.failures)
        self.waited += delay
        return delay
