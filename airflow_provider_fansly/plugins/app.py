"""The Fansly page and its JSON endpoints, mounted by Airflow's api-server under ``/fansly``.

Airflow does not authenticate a plugin's app, so this one does, for every route, through
Airflow's own auth manager: the caller must be a user allowed to read DAGs and assets, by
the bearer token or the session cookie the core UI and ``/api/v2`` accept. Anonymous calls
get 401 (the page redirects to the login instead); users without the permissions get 403.
What reaches the browser is counts, ids, dates and the lake's path: no key, no connection
secret, no storage credential.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, day_of
from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.plugins import summary
from airflow_provider_fansly.plugins.calendar import STATUSES, Calendar
from airflow_provider_fansly.plugins.lakes import LAKES_VARIABLE, Lake, load_lakes

__all__ = ["View", "create_app", "render_page"]

PERIODS = {"daily": DAY_MS, "hourly": HOUR_MS}
Period = Annotated[Literal["daily", "hourly"], Query(description="the lake's daily or hourly data")]
LakeName = Annotated[str | None, Query(description="a lake of fansly_lakes; default the first")]
LakePath = Annotated[
    str | None, Query(description="a configured lake's path (the operator's link names it)")
]
Days = Annotated[int, Query(ge=1, le=3660, description="days up to today the calendar shows")]


@dataclass(frozen=True)
class View:
    """What the page and ``/api/coverage`` show: a lake (by name or path), a period, an
    account, and the days (a window in epoch ms, else the last ``days``)."""

    lake: LakeName = None
    path: LakePath = None
    period: Period = "daily"
    account: str | None = None
    after: int | None = None
    before: int | None = None
    days: Days = 365

    def coverage(self, today: date | None = None) -> tuple[Lake, dict[str, Any]]:
        """The lake and its calendar as JSON, narrowed to the account and days."""
        lake = _lake(self.lake, self.path)
        first, last = _window(self.after, self.before)
        calendar = _calendar(lake, self.period, self.days, first, today)
        return lake, _coverage(calendar, self.account, first, last)

    def tags(self, lake: Lake, coverage: dict[str, Any]) -> list[dict[str, Any]]:
        """The top tags of each account shown, over the calendar's days."""
        first, last = (date.fromisoformat(coverage[k]) for k in ("first", "last"))
        found = summary.top_tags(lake, PERIODS[self.period], first, last)
        return [t for t in found if self.account is None or t["account_id"] == self.account]


def _authorized() -> list[Any]:
    """The checks every route runs: a user who may read DAGs and assets."""
    from airflow.api_fastapi.core_api.security import requires_access_asset, requires_access_dag

    return [Depends(requires_access_dag("GET")), Depends(requires_access_asset("GET"))]


def _lake(lake: str | None, path: str | None) -> Lake:
    """The lake a request names (by name or by path), else the first configured one."""
    lakes = _configured()
    if not lakes:
        raise HTTPException(
            404, f"no lake is configured: set the Variable {LAKES_VARIABLE} or fansly_output_path"
        )
    for candidate in lakes:
        if (lake is None or candidate.name == lake) and (path is None or candidate.path == path):
            return candidate
    names = ", ".join(repr(c.name) for c in lakes)
    wanted = f"named {lake!r}" if lake is not None else "with that path"
    raise HTTPException(404, f"no configured lake {wanted}; {LAKES_VARIABLE} has {names}")


def _configured() -> list[Lake]:
    """The configured lakes; a broken Variable is the server's error, named."""
    try:
        return load_lakes()
    except FanslyInputError as error:
        raise HTTPException(500, str(error)) from error


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _window(after: int | None, before: int | None) -> tuple[date | None, date | None]:
    """The days a ``[after, before)`` window in epoch ms touches (either end may be open)."""
    if after is not None and before is not None and after >= before:
        raise HTTPException(400, f"after ({after}) must be earlier than before ({before})")
    last = day_of(before - 1) if before is not None else None
    return (day_of(after) if after is not None else None), last


def _calendar(
    lake: Lake, period: str, days: int, first: date | None, today: date | None = None
) -> Calendar:
    today = today or _today()
    start = today - timedelta(days=days - 1)
    return summary.calendar(lake, PERIODS[period], today, min(start, first or start))


def _coverage(
    calendar: Calendar, account: str | None, first: date | None, last: date | None
) -> dict[str, Any]:
    """The calendar as JSON, narrowed to an account and days (by default from the first day
    any account holds, so a young lake is not drawn as a year of empty days)."""
    if account is not None and account not in calendar.cells:
        raise HTTPException(404, f"account {account!r} is not in this lake's fetch log")
    names = [a for a in calendar.cells if account is None or a == account]
    held = [c.day for a in names for c in calendar.cells[a] if c.status != "before"]
    first = first or min(held, default=calendar.today)
    last = last or calendar.today
    newest = {a: d.isoformat() if d else None for a, d in calendar.newest().items()}
    accounts = []
    for name in names:
        shown = [c for c in calendar.cells[name] if first <= c.day <= last]
        accounts.append(
            {
                "account_id": name,
                "expected": len(calendar.expected[name]),
                "newest_data": newest[name],
                "totals": {s: sum(c.status == s for c in shown) for s in STATUSES},
                "cells": [
                    asdict(c) | {"day": c.day.isoformat(), "missing": c.missing} for c in shown
                ],
            }
        )
    return {
        "today": calendar.today.isoformat(),
        "first": first.isoformat(),
        "last": last.isoformat(),
        "accounts": accounts,
    }


def _command(lake: Lake, period: str, account: str, day: date, media: list[str]) -> str:
    """The shell command that fetches just ``media`` for ``day`` through the lake's DAG."""
    conf = {"account_id": account, "media_offer_ids": media, "output_path": lake.path}
    return shlex.join(
        [
            "airflow", "backfill", "create",
            "--dag-id", lake.dag_ids[period],
            "--from-date", day.isoformat(), "--to-date", day.isoformat(),
            "--reprocess-behavior", "completed",
            "--dag-run-conf", json.dumps(conf),
        ]
    )  # fmt: skip


@cache
def _template() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = Path(__file__).with_name("templates")
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape())
    env.filters["weekday"] = lambda day: date.fromisoformat(day).weekday()
    return env.get_template("page.html")


def render_page(view: View, today: date | None = None) -> str:
    """The page's HTML: the calendar, quality, credits and tables of one lake, as of
    ``today`` (UTC; the calendar's last, not yet due, day)."""
    lake, coverage = view.coverage(today)
    return str(
        _template().render(
            lake=lake,
            lakes=[lk.name for lk in _configured()],
            period=view.period,
            coverage=coverage,
            tags=view.tags(lake, coverage),
            quality=summary.quality(lake),
            credits=summary.credits(lake).as_dict(),
            plan=summary.plan(lake),
            tables=summary.tables(lake),
            account=view.account,
            statuses=STATUSES,
        )
    )


def create_app() -> FastAPI:
    """The plugin's app: the page at ``/`` and the JSON under ``/api``, all authorized."""
    app = FastAPI(
        title="Fansly lake",
        description="Coverage, quality, credits and tables of the Fansly lakes",
        dependencies=_authorized(),
    )
    app.add_exception_handler(HTTPException, _refused)  # type: ignore[arg-type]
    app.add_api_route(
        "/", _page, response_class=HTMLResponse, name="page", summary="The Fansly page"
    )
    app.include_router(_api())
    return app


async def _refused(request: Request, error: HTTPException) -> Response:
    """Send a browser that is not logged in to the login, and answer JSON otherwise."""
    if error.status_code == 401 and getattr(request.scope.get("route"), "name", "") == "page":
        from airflow.api_fastapi.app import get_auth_manager

        login = get_auth_manager().get_url_login(next_url=str(request.url))
        return RedirectResponse(login, status_code=303)
    return JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)


def _page(view: Annotated[View, Depends()]) -> HTMLResponse:
    return HTMLResponse(render_page(view))


def _api() -> APIRouter:
    """The JSON endpoints under ``/api``."""
    api = APIRouter(prefix="/api")
    api.add_api_route("/lakes", _lakes, summary="The configured lakes")
    api.add_api_route(
        "/coverage", _coverage_json, summary="The coverage calendar: a status per account and day"
    )
    api.add_api_route(
        "/gaps", _gaps, summary="One account's day: what is missing, and the command to fetch it"
    )
    api.add_api_route(
        "/tags", _tags_json, summary="Each account's top For-You-page tags in the calendar's days"
    )
    api.add_api_route(
        "/quality", _quality, summary="The latest quality run per period, and its history"
    )
    api.add_api_route(
        "/credits", _credits, summary="Credits spent per day of a month, against the budget"
    )
    api.add_api_route(
        "/tables", _tables, summary="Each table's version, newest commits, last maintenance"
    )
    api.add_api_route(
        "/plan", _plan, summary="Each planned account's tiers: size, how far behind, next due"
    )
    return api


def _lakes() -> list[dict[str, Any]]:
    return [{"name": lk.name, "path": lk.path} for lk in _configured()]


def _coverage_json(view: Annotated[View, Depends()]) -> dict[str, Any]:
    lake, coverage = view.coverage()
    return {"lake": lake.name, "period": view.period} | coverage


def _tags_json(view: Annotated[View, Depends()]) -> dict[str, Any]:
    lake, coverage = view.coverage()
    keep = ("first", "last")
    return (
        {"lake": lake.name, "period": view.period}
        | {k: coverage[k] for k in keep}
        | {"accounts": view.tags(lake, coverage)}
    )


def _gaps(
    account: str, day: date, lake: LakeName = None, period: Period = "daily"
) -> dict[str, Any]:
    chosen = _lake(lake, None)
    if day >= _today():
        raise HTTPException(400, f"{day} is not over yet (UTC): nothing is missing")
    calendar = _calendar(chosen, period, 365, day)
    if account not in calendar.cells:
        raise HTTPException(404, f"account {account!r} is not in this lake's fetch log")
    missing, gone = calendar.missing(account, day)
    return {
        "lake": chosen.name,
        "account_id": account,
        "day": day.isoformat(),
        "missing": missing,
        "gone": gone,
        "command": _command(chosen, period, account, day, missing) if missing else None,
    }


def _quality(lake: LakeName = None) -> list[dict[str, Any]]:
    return summary.quality(_lake(lake, None))


def _credits(
    lake: LakeName = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> dict[str, Any]:
    return summary.credits(_lake(lake, None), month).as_dict()


def _plan(lake: LakeName = None) -> list[dict[str, Any]]:
    return summary.plan(_lake(lake, None))


def _tables(lake: LakeName = None) -> list[dict[str, Any]]:
    return summary.tables(_lake(lake, None))
