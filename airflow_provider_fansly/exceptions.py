"""The exceptions raised by the Fansly provider.

Every failure of a request ends in exactly one of these, so callers can tell "fix your input"
from "try again later" from "the vendor is broken" without parsing messages::

    FanslyError
    ├── FanslyRequestError          a request failed; carries the request context
    │   ├── FanslyBadRequestError       400: the API refused the parameters (never retried)
    │   ├── FanslyAuthError             401/403: missing, wrong or unauthorised API key
    │   ├── FanslyNotFoundError         404: unknown account or media offer
    │   ├── FanslyCreditsExhaustedError 402: the monthly credit budget is used up
    │   ├── FanslyRateLimitError        429: too many requests; carries ``retry_after``
    │   ├── FanslyUpstreamError         the platform behind the vendor failed (inner status,
    │   │                               ``success: false``, "error getting graph")
    │   ├── FanslyServerError           5xx from the vendor or a proxy in front of it
    │   ├── FanslyTransportError        timeout, reset, refused connection
    │   └── FanslyMalformedAnswerError  HTML, truncated JSON, missing fields, wrong types
    │       └── FanslyAnswerMismatchError   a well-formed answer to another question: another
    │                                       media offer or period, buckets outside the window
    ├── FanslyInputError            the task's own arguments are wrong (ids, window); also a
    │                               ``ValueError``
    ├── FanslyBudgetExceededError   a try's ``max_requests`` or the month's credits would be
    │                               passed (``during_run``: used up while fetching)
    ├── FanslyDataError             fetched rows broke a data-quality rule (see ``schemas``)
    ├── FanslyGoneError             every media offer of a task answered "gone" and the key
    │                               no longer lists the account
    └── FanslyLakeError             the lake cannot take the commit; nothing was written
        ├── FanslyCommitConflictError   concurrent commits kept winning past the retry bound
        ├── FanslyLakeStoreError        the lake's store kept failing a commit that did not land
        ├── FanslyTableFeatureError     the table uses a Delta feature this provider cannot
        │                               write (checked before any request)
        └── FanslyLegacyLakeError       a lake of the old plain-Parquet layout: convert it first

Messages name the account, media offer and window of the request; they never hold the key.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FanslyAnswerMismatchError",
    "FanslyAuthError",
    "FanslyBadRequestError",
    "FanslyBudgetExceededError",
    "FanslyCommitConflictError",
    "FanslyCreditsExhaustedError",
    "FanslyDataError",
    "FanslyError",
    "FanslyGoneError",
    "FanslyInputError",
    "FanslyLakeError",
    "FanslyLakeStoreError",
    "FanslyLegacyLakeError",
    "FanslyMalformedAnswerError",
    "FanslyNotFoundError",
    "FanslyRateLimitError",
    "FanslyRequestError",
    "FanslyServerError",
    "FanslyTableFeatureError",
    "FanslyTransportError",
    "FanslyUpstreamError",
    "RequestContext",
]


@dataclass(frozen=True)
class RequestContext:
    """What a request was about: enough to find it in logs, never the key."""

    route: str
    account_id: str | None = None
    media_offer_id: str | None = None
    after: int | None = None
    before: int | None = None
    period: int | None = None

    def describe(self) -> str:
        """Render the context as ``route (account=…, media offer=…, window=[a, b) period=p)``."""
        parts = []
        if self.account_id is not None:
            parts.append(f"account={self.account_id}")
        if self.media_offer_id is not None:
            parts.append(f"media offer={self.media_offer_id}")
        if self.after is not None and self.before is not None:
            parts.append(f"window=[{self.after}, {self.before}) ms")
        if self.period is not None:
            parts.append(f"period={self.period} ms")
        return f"{self.route} ({', '.join(parts)})" if parts else self.route


class FanslyError(Exception):
    """Base of every error this provider raises on purpose."""


class FanslyRequestError(FanslyError):
    """A request to the API failed; ``context``, ``status_code`` and ``api_message`` say how."""

    def __init__(
        self,
        summary: str,
        context: RequestContext,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
    ) -> None:
        self.summary = summary
        self.context = context
        self.status_code = status_code
        self.api_message = api_message
        detail = f": {api_message}" if api_message else ""
        status = f"HTTP {status_code} " if status_code is not None else ""
        super().__init__(f"{summary} [{status}{context.describe()}]{detail}")


class FanslyBadRequestError(FanslyRequestError):
    """400: the API rejected the request parameters."""


class FanslyAuthError(FanslyRequestError):
    """401 or 403: the API key is missing, wrong, or may not read this account."""


class FanslyNotFoundError(FanslyRequestError):
    """404: the account or media offer does not exist for this key."""


class FanslyCreditsExhaustedError(FanslyRequestError):
    """402: the plan's monthly credits are used up; nothing helps until they renew."""


class FanslyRateLimitError(FanslyRequestError):
    """429: the per-minute limit was hit; ``retry_after`` is the server's advice in seconds."""

    def __init__(
        self,
        summary: str,
        context: RequestContext,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(summary, context, status_code=status_code, api_message=api_message)
        self.retry_after = retry_after


class FanslyUpstreamError(FanslyRequestError):
    """The platform behind the vendor failed; ``permanent`` when retrying cannot help."""

    def __init__(
        self,
        summary: str,
        context: RequestContext,
        *,
        status_code: int | None = None,
        api_message: str | None = None,
        upstream_status: int | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(summary, context, status_code=status_code, api_message=api_message)
        self.upstream_status = upstream_status
        self.permanent = permanent


class FanslyServerError(FanslyRequestError):
    """5xx from the vendor or from a proxy in front of it."""


class FanslyTransportError(FanslyRequestError):
    """The answer never arrived: timeout, connection reset or refused."""


class FanslyMalformedAnswerError(FanslyRequestError):
    """The answer was not the documented envelope: HTML, truncated JSON, missing fields."""


class FanslyAnswerMismatchError(FanslyMalformedAnswerError):
    """The answer does not match its request; ``claimed`` is what it said, ``asked`` what was
    asked. Asked again once (a proxy's passing mix-up), then the task fails."""

    def __init__(self, summary: str, context: RequestContext, *, claimed: str, asked: str) -> None:
        super().__init__(
            f"{summary}: the answer claims {claimed}, the request asked {asked}", context
        )
        self.claimed = claimed
        self.asked = asked


class FanslyInputError(FanslyError, ValueError):
    """The task's arguments are impossible (an unsafe id, an empty or off-grid window)."""


class FanslyBudgetExceededError(FanslyError):
    """A budget would be passed: the try's ``max_requests``, or the month's credits.

    ``during_run`` is true when a try used its ``max_requests`` up while fetching (retries and
    429s count): what it fetched is staged, and its retry, which reuses it, needs fewer. A
    refusal before any request is the same on every try.
    """

    def __init__(self, message: str, *, during_run: bool = False) -> None:
        self.during_run = during_run
        super().__init__(message)


class FanslyDataError(FanslyError):
    """Fetched rows failed data-quality validation; ``report`` lists every failing check, and
    ``rules`` names the rules broken (as ``storage.rules.rules`` names them)."""

    def __init__(self, report: str, rules: tuple[str, ...] = ()) -> None:
        self.report = report
        self.rules = rules
        super().__init__(report)


class FanslyGoneError(FanslyError):
    """Every media offer of the task answered gone, and the key no longer lists the account."""


class FanslyLakeError(FanslyError):
    """The lake refused or could not take a commit; the tables are as they were."""


class FanslyCommitConflictError(FanslyLakeError):
    """Concurrent commits to the same rows kept winning; retrying the task will land it."""


class FanslyLegacyLakeError(FanslyLakeError):
    """The output path holds a lake of the 0.1 layout (plain Parquet, ``_keys/``)."""


class FanslyLakeStoreError(FanslyLakeError):
    """The lake's store failed a commit again and again, and the log shows it did not land
    (nothing of it is in the table); a later try may pass."""


class FanslyTableFeatureError(FanslyLakeError):
    """The table ``table`` uses Delta ``features`` that the provider's commit path cannot
    honour; refused before any request, nothing written."""

    def __init__(self, table: str, features: list[str], message: str) -> None:
        super().__init__(message)
        self.table = table
        self.features = features
