"""What a failed task's retry can change: the task-level policy over the client's retry rules.

The client already retried each request within its bounds; this decides whether Airflow's
own retry of the whole task may help, since a retry re-buys what was not staged.
"""

from __future__ import annotations

from airflow_provider_fansly.client.retry import is_retryable
from airflow_provider_fansly.exceptions import (
    FanslyBudgetExceededError,
    FanslyCommitConflictError,
    FanslyDataError,
    FanslyGoneError,
    FanslyInputError,
    FanslyLakeError,
    FanslyLakeStoreError,
    FanslyRequestError,
)

__all__ = ["permanent_reason"]

_PERMANENT: tuple[tuple[type[Exception], str], ...] = (
    (FanslyInputError, "the task's arguments are wrong; fix them"),
    (FanslyBudgetExceededError, "the run needs more than the budget on every try; see the figures"),
    (FanslyDataError, "the API would send the same numbers again"),
    (FanslyGoneError, "the account or the window is refused, not a media offer; check them"),
    (FanslyLakeError, "the lake must be fixed first"),
)


def permanent_reason(error: BaseException) -> str | None:
    """Say why a failed task must not be retried by Airflow, or ``None`` if a retry may help.

    A retry buys again what the failed try did not stage, so only failures that can pass are
    left to Airflow's retries: 429s, 5xx, transport errors, truncated answers, lost commit
    races, a store that kept failing a commit that did not land, and a ``max_requests`` used
    up while fetching (the retry reuses what was bought).
    """
    if isinstance(error, FanslyCommitConflictError | FanslyLakeStoreError):
        return None
    if isinstance(error, FanslyBudgetExceededError) and error.during_run:
        return None  # what it bought is staged: the retry needs fewer requests
    if isinstance(error, FanslyRequestError):
        return (
            None
            if is_retryable(error, attempt=2)
            else "the API answers this request the same way every time"
        )
    return next((why for kind, why in _PERMANENT if isinstance(error, kind)), None)
