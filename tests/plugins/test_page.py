"""The Fansly page as a deployment serves it: a real api-server with the plugin loaded from
its entry point, login required, a lake with a gap, a gone media offer and a failed check.

Every route is called anonymously, with a forged token and as a logged-in viewer; then
Debian's Chromium, driven by Playwright, logs in through Airflow's form, opens the page from
the UI's navigation, reads the calendar and tables, and clicks the gap.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from devtools.browser import logged_in
from devtools.stack import AirflowStack, connection_env
from tests.plugins.lake import GAP, GONE, QUIET, SPENT, TODAY, build

# one api-server for the module: its tests stay on one xdist worker
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("plugin-page")]

SECRET = "key-that-must-never-reach-a-browser"
ROUTES = [
    "/fansly/api/lakes",
    "/fansly/api/coverage",
    f"/fansly/api/gaps?account=acct_a&day={GAP[2]}",
    "/fansly/api/quality",
    "/fansly/api/credits",
    "/fansly/api/tables",
    "/fansly/api/tags",
    "/fansly/api/plan",
]


@dataclass
class Served:
    stack: AirflowStack
    token: str
    lake: str

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.get(self.stack.url + path, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("page")
    build(root / "lake")
    (root / "dags").mkdir()
    lakes = {"demo": {"path": str(root / "lake")}, "empty": {"path": str(root / "none")}}
    env = {
        "AIRFLOW_VAR_FANSLY_LAKES": json.dumps(lakes),
        # the budget comes from the connection; its key must stay on the server
        "AIRFLOW_CONN_FANSLY_DEFAULT": connection_env(
            "http://127.0.0.1:9", SECRET, monthly_credits=1000
        ),
    }
    with AirflowStack(root / "home", root / "dags", env, users={"viewer": "viewer"}) as stack:
        stack.airflow("db", "migrate")
        stack.start(components=())
        yield Served(stack, stack.token("viewer"), str(root / "lake"))


def test_every_route_refuses_anonymous_and_forged_callers(served: Served) -> None:
    for path in ROUTES:
        anonymous = httpx.get(served.stack.url + path, timeout=30)
        assert (anonymous.status_code, anonymous.json()) == (401, {"detail": "Not authenticated"})
        assert served.get(path, token="forged.token.value").status_code == 403
        assert served.get(path).status_code == 200, path
    page = httpx.get(served.stack.url + "/fansly/", timeout=30)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/auth/login?next=")
    # the UI's catch-all answers 200 with its HTML for unknown paths; this app does not
    unknown = served.get("/fansly/api/nothing-here")
    assert unknown.status_code == 404 and unknown.json() == {"detail": "Not Found"}


def test_a_viewer_gets_the_lakes_numbers_and_never_a_secret(served: Served) -> None:
    coverage = served.get("/fansly/api/coverage").json()
    cells = {(a["account_id"], c["day"]): c for a in coverage["accounts"] for c in a["cells"]}
    assert cells[(GAP[0], str(GAP[2]))] | {"rows": 0} == {
        "day": str(GAP[2]), "status": "gap", "expected": 5, "fetched": 4, "gone": 0,
        "missing": 1, "rows": 0,
    }  # fmt: skip
    statuses = [cells[("acct_b", str(d))]["status"] for _, _, d in GONE]
    assert statuses == ["covered", "covered", "gone"]  # newest first; gone once, then not expected
    assert cells[("acct_b", str(QUIET[1]))]["status"] == "quiet"
    assert cells[("acct_a", str(TODAY))]["status"] == "not_due"
    gap = served.get(ROUTES[2]).json()
    assert (gap["missing"], gap["gone"]) == (["a2"], [])
    assert '"media_offer_ids": ["a2"]' in gap["command"]
    tags = served.get("/fansly/api/tags?account=acct_a&days=30").json()
    assert [(t["tag_name"], t["views"]) for t in tags["accounts"][0]["tags"]] == [
        ("gaming", 45), ("cosplay", 40),
    ]  # fmt: skip
    assert [a["account_id"] for a in tags["accounts"]] == ["acct_a"]
    assert "#gaming 45" in served.get("/fansly/?days=30").text
    credits = served.get("/fansly/api/credits").json()
    assert (credits["spent"], credits["budget"], credits["left"]) == (SPENT, 1000, 1000 - SPENT)
    (daily,) = served.get("/fansly/api/quality").json()
    assert {c["check_id"]: c["status"] for c in daily["checks"]} == {
        "completeness": "failed", "uniqueness": "passed",
    }  # fmt: skip
    narrowed = served.get("/fansly/api/coverage?account=acct_b&lake=demo&days=30").json()
    assert [a["account_id"] for a in narrowed["accounts"]] == ["acct_b"]
    # the operator's link: the lake by its path, the task's account and window
    after, before = (int(datetime.combine(d, time(), timezone.utc).timestamp() * 1000)
                     for d in (GAP[2], GAP[2] + timedelta(days=2)))  # fmt: skip
    query = urlencode({"path": served.lake, "account": "acct_a", "after": after, "before": before})
    linked = served.get(f"/fansly/api/coverage?{query}").json()
    assert [c["status"] for c in linked["accounts"][0]["cells"]] == ["gap", "covered"]
    assert served.get(f"/fansly/?{query}").status_code == 200
    empty = served.get("/fansly/api/coverage?lake=empty").json()
    assert empty["accounts"] == [] and served.get("/fansly/?lake=empty").status_code == 200
    for path in [*ROUTES, "/fansly/"]:
        assert SECRET not in served.get(path).text


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/fansly/api/coverage?lake=nope", 404, "no configured lake named 'nope'"),
        ("/fansly/api/coverage?path=/etc", 404, "no configured lake with that path"),
        ("/fansly/api/coverage?after=20&before=10", 400, "after (20) must be earlier"),
        ("/fansly/api/coverage?account=acct_z", 404, "account 'acct_z' is not in"),
        (f"/fansly/api/gaps?account=acct_a&day={TODAY}", 400, "is not over yet"),
        ("/fansly/api/credits?month=2026-1", 422, None),
    ],
)
def test_bad_input_gets_one_readable_answer(
    served: Served, path: str, status: int, detail: str | None
) -> None:
    answer = served.get(path)
    assert answer.status_code == status
    if detail:
        assert detail in answer.json()["detail"]


def test_the_page_in_a_real_browser(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    stack = served.stack
    with logged_in(stack.url, "viewer", stack.passwords["viewer"]) as page:
        page.get_by_role("link", name="Fansly").click()  # the nav entry
        frame = page.frame_locator("iframe")
        expect(frame.locator("h1")).to_contain_text("Fansly lake demo")
        acct_a = frame.locator("[data-account=acct_a]")
        acct_b = frame.locator("[data-account=acct_b]")
        expect(acct_a.locator(".cell.gap")).to_have_count(1)
        expect(acct_b.locator(".cell.gone")).to_have_count(1)
        expect(acct_b.locator(".cell.quiet")).to_have_count(1)
        expect(frame.locator("tr[data-check=completeness] .badge")).to_have_text("failed")
        expect(frame.locator("#credits")).to_contain_text(f"{SPENT} spent of 1000")
        acct_a.locator(".cell.gap").click()
        expect(frame.locator("#detail")).to_contain_text("missing (1): a2")
        expect(frame.locator("#detail .command")).to_contain_text("--from-date " + str(GAP[2]))
        shot = tmp_path / "fansly-page.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
