"""QualityAlert: a quality task's findings to a person, by e-mail or any Airflow notifier.

It is a task callback (``on_failure_callback``, and ``on_success_callback`` for warnings), so
it runs on the worker that ran the check, with the lake's credentials. It reads what the
task recorded in ``quality_results`` for its run, so the message holds the whole report even
though the task failed before returning. Where to send comes from a Variable (default
``fansly_alerts``), so on-call addresses change without a code change:

``{"to": ["oncall@example.com"], "smtp_conn_id": "smtp_default", "from_email": null,
"on_warnings": false}``

Any other notifier (Slack, PagerDuty, Teams...) goes through ``via``: a function from the
:class:`QualityMessage` to that notifier.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from airflow.sdk import BaseNotifier

from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.links.fansly import page_url

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fansly.quality.findings import Finding
    from airflow_provider_fansly.storage.location import Location

__all__ = ["VARIABLE", "QualityAlert", "QualityMessage", "compose"]

#: The Variable that says where alerts go.
VARIABLE = "fansly_alerts"
#: At most this many findings are listed in a message; the rest are in the results table.
MAX_LINES = 60


@dataclass(frozen=True)
class QualityMessage:
    """What an alert says: a one-line subject and a plain-text body (``html`` wraps it)."""

    subject: str
    text: str
    failed: bool

    @property
    def html(self) -> str:
        """The body as HTML, for mail clients: preformatted, escaped."""
        return f"<pre>{html.escape(self.text)}</pre>"


class AlertSettings(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """The Variable's JSON: where alerts go (a misspelt key is refused, not ignored)."""

    to: str | list[str] | None = None
    smtp_conn_id: str = "smtp_default"
    from_email: str | None = None
    on_warnings: bool = False


def _settings(raw: str | None, variable: str) -> AlertSettings:
    """The Variable's JSON as settings; the defaults when it is not set."""
    if raw in (None, ""):
        return AlertSettings()
    try:
        return msgspec.json.decode(raw, type=AlertSettings)
    except msgspec.MsgspecError as error:
        keys = list(AlertSettings.__struct_fields__)
        raise FanslyInputError(
            f"the Variable {variable} must be a JSON object with the keys {keys} ({error}), "
            f"got {raw!r}"
        ) from None


class QualityAlert(BaseNotifier):
    """Send a quality task's findings when it failed (or, if asked, when it warned).

    :param variable: the Variable holding the settings (JSON, see the module's docstring).
    :param via: makes the notifier that sends a :class:`QualityMessage` (e.g. Slack's);
        default: e-mail through the SMTP provider, to the Variable's ``to``.
    :param on_warnings: also send when the task succeeded with warnings; default: the
        Variable's ``on_warnings`` (false when unset).
    """

    template_fields = ()

    def __init__(
        self,
        *,
        variable: str = VARIABLE,
        via: Callable[[QualityMessage], BaseNotifier] | None = None,
        on_warnings: bool | None = None,
    ) -> None:
        super().__init__()
        self.variable = variable
        self.via = via
        self.on_warnings = on_warnings

    def notify(self, context: Context) -> None:
        """Compose the message from what the task recorded and send it, or say why not."""
        from airflow.sdk import Variable

        settings = _settings(Variable.get(self.variable, default=None), self.variable)
        if self.via is None and not settings.to:
            self.log.warning(
                'No quality alert sent: set the Variable %s to {"to": [addresses]} '
                "(or give QualityAlert a notifier with via=)",
                self.variable,
            )
            return
        on_warnings = settings.on_warnings if self.on_warnings is None else self.on_warnings
        message = compose(context, bool(on_warnings))
        if message is None:
            self.log.info("No quality alert: the task neither failed nor warned")
            return
        sender = self.via(message) if self.via is not None else _email(message, settings)
        sender.notify(context)
        self.log.info("Quality alert sent: %s", message.subject)


def _email(message: QualityMessage, settings: AlertSettings) -> BaseNotifier:
    """The SMTP provider's notifier for ``message``, to the settings' addresses."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return SmtpNotifier(
        to=settings.to or [],  # notify() sends by e-mail only with addresses
        from_email=settings.from_email,
        smtp_conn_id=settings.smtp_conn_id,
        subject=message.subject,
        html_content=message.html,
    )


def compose(context: Context | Mapping[str, Any], on_warnings: bool) -> QualityMessage | None:
    """The message for a quality task's try, from its recorded findings; ``None`` when there
    is nothing to tell (it passed, or only warned and warnings are not wanted)."""
    from airflow_provider_fansly.hooks.lake import lake_location
    from airflow_provider_fansly.quality.findings import counts
    from airflow_provider_fansly.storage.layout import QUALITY_RESULTS_DIR

    task: Any = context["task"]  # a MediaStatsQualityOperator, its fields rendered
    ti = context["ti"]
    if not hasattr(task, "output_path") or not hasattr(task, "period"):
        raise FanslyInputError(
            f"QualityAlert belongs on MediaStatsQualityOperator tasks, not {task.task_id!r}"
        )
    error = context.get("exception")
    failed = error is not None or str(getattr(ti, "state", "")).endswith("failed")
    location = lake_location(task.output_path)
    run_id, period = str(context["run_id"]), int(task.period)
    findings, unread = _findings(location, run_id, period)
    found = counts(findings)
    if not failed and not (on_warnings and found["warned"]):
        return None
    what = "failed" if failed else "warned"
    subject = (
        f"[Fansly quality] {task.dag_id}.{task.task_id} {what}: {found['failed']} failed, "
        f"{found['warned']} warned, {location}"
    )
    lines = [
        f"Run: {task.dag_id} / {run_id} / {task.task_id} (try {getattr(ti, 'try_number', '?')})",
        f"Lake: {location}",
        f"Findings: {location.table_uri(QUALITY_RESULTS_DIR)}, run_id = {run_id!r}",
        f"Page: {page_url(task.output_path, period)}",
    ]
    if getattr(ti, "log_url", None):
        lines.append(f"Log: {ti.log_url}")
    if error is not None:
        lines.append(f"Error: {error}")
    if unread:
        lines.append(f"The findings could not be read back: {unread}")
    lines += ["", _report(findings)]
    return QualityMessage(subject, "\n".join(lines), failed)


def _findings(location: Location, run_id: str, period: int) -> tuple[list[Finding], str]:
    """The run's recorded findings, or none and why (an unreachable lake must still alert)."""
    from airflow_provider_fansly.quality.results import run_findings

    try:
        return run_findings(location, run_id, period), ""
    except Exception as error:  # the alert goes out whatever failed
        return [], f"{type(error).__name__}: {error}"


def _report(findings: list[Finding]) -> str:
    """The findings report, problems first, capped at :data:`MAX_LINES` lines."""
    from airflow_provider_fansly.quality.findings import report

    if not findings:
        return "No findings were recorded for this run (the task failed before it recorded)."
    lines = report(findings).splitlines()
    if len(lines) > MAX_LINES:
        lines = [*lines[:MAX_LINES], f"... and {len(lines) - MAX_LINES} more in the table"]
    return "\n".join(lines)
