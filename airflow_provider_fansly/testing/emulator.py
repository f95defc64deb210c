"""A local emulator of the Fansly API's media-statistics route, for tests, demos and offline DAGs.

It answers like the vendor (see docs/emulator.md): both envelopes, every error shape, the
``/api/fansly/accounts`` route, rate-limit headers and 429s over a sliding window, credits,
UTC-aligned buckets newest first including the bucket at ``beforeDate``, the 100-bucket cap,
quiet buckets, and deterministic stats from :mod:`.synthetic`. Faults are injected over HTTP
(``POST /_emulator/faults``) so a running emulator can be steered from another process.

Run it with ``fansly-emulator --port 8765``; in Python, ``with Emulator() as emu: emu.url``.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from airflow_provider_fansly.datapoints import STAT_FIELDS
from airflow_provider_fansly.testing.synthetic import FAR_PAST_MS, bucket_stats, media_entry
from airflow_provider_fansly.windows import DATAPOINT_LIMIT, DAY_MS, HOUR_MS

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_KEY", "Emulator", "EmulatorConfig", "main"]

DEFAULT_KEY = "emulator-key"
DEFAULT_ACCOUNT = "fansly_demo"
#: Fault kinds that replace the answer, and kinds that corrupt a successful dataset.
ANSWER_FAULTS = {
    "server_error",
    "bad_gateway_html",
    "truncated",
    "reset",
    "slow",
    "upstream_error",
    "upstream_error_outer",
    "rate_limit",
    "status",
}
DATA_FAULTS = {
    "negative_counts",
    "off_grid",
    "duplicate_bucket",
    "unknown_stat_type",
    "extra_fields",
    "wrong_types",
    "unique_gt_views",
    "short_coverage",
    "seconds",
    "wrong_media",
}
#: Faults that change which question the answer is for (the period asked is ignored).
QUESTION_FAULTS = {"ignored_period"}


@dataclass
class EmulatorConfig:
    """How the emulator behaves; every field can also be changed at run time."""

    api_keys: set[str] = field(default_factory=lambda: {DEFAULT_KEY})
    accounts: list[str] = field(default_factory=lambda: [DEFAULT_ACCOUNT, "fansly_agency_2"])
    rate_limit: int | None = None
    rate_window: float = 60.0
    plan: str = "Starter"
    latency: float = 0.0
    credits: int | None = None
    deleted_media: set[str] = field(default_factory=lambda: {"deleted-media"})
    #: how a permanent platform error comes back: "inner" (outer 200) or "outer" (outer 500)
    upstream_wrap: str = "inner"
    #: the most buckets an answer holds (``datapointLimit``): the newest ones are kept
    datapoint_limit: int = DATAPOINT_LIMIT
    #: the emulator's "now" in epoch ms (``None``: the wall clock); only the numbers of
    #: ``restated-`` media offers depend on it, so tests can fetch a day young, then old
    clock_ms: int | None = None
    #: the anomaly days of ``zero-``/``spike-``/``split-`` media offers, as ISO dates
    #: (default: every 20th day, see ``synthetic.anomaly_day``)
    anomaly_days: list[str] | None = None


class _State:
    """Counters, the sliding window, the credits and the fault queue, behind one lock."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.window: deque[float] = deque()
            self.faults: list[dict[str, Any]] = []
            self.counts = {"requests": 0, "rate_limited": 0, "credits_used": 0, "served": 0}
            self.log: list[dict[str, Any]] = []

    def admit(self, now: float) -> tuple[int | None, dict[str, str]]:
        """Apply the rate limit and credits; return (refusal status or None, headers)."""
        cfg = self.config
        with self.lock:
            self.counts["requests"] += 1
            while self.window and self.window[0] <= now - cfg.rate_window:
                self.window.popleft()
            headers = {"X-RateLimit-Plan": cfg.plan}
            if cfg.rate_limit is not None:
                headers["X-RateLimit-Limit"] = str(cfg.rate_limit)
                if len(self.window) >= cfg.rate_limit:
                    wait = self.window[0] + cfg.rate_window - now
                    headers["X-RateLimit-Remaining"] = "0"
                    headers["X-RateLimit-Retry-After"] = str(max(1, math.ceil(wait)))
                    self.counts["rate_limited"] += 1
                    return 429, headers
            if cfg.credits is not None and self.counts["credits_used"] >= cfg.credits:
                return 402, headers
            self.window.append(now)
            self.counts["credits_used"] += 1
            if cfg.rate_limit is not None:
                headers["X-RateLimit-Remaining"] = str(cfg.rate_limit - len(self.window))
            return None, headers

    def add_faults(self, faults: list[Any]) -> None:
        """Queue faults; each applies to its next ``times`` matching requests, once ``after``
        matching requests have passed untouched."""
        for fault in faults:
            known = ANSWER_FAULTS | DATA_FAULTS | QUESTION_FAULTS
            if not isinstance(fault, dict) or fault.get("kind") not in known:
                raise ValueError(f"unknown fault {fault!r:.80}")
        with self.lock:
            self.faults.extend({"times": 1, "media": "*", **f} for f in faults)

    def clear_faults(self) -> None:
        """Drop every queued fault (an outage ends)."""
        with self.lock:
            self.faults.clear()

    def take_fault(self, media: str | None, kinds: set[str]) -> dict[str, Any] | None:
        with self.lock:
            for fault in self.faults:
                if fault["kind"] in kinds and fault.get("media", "*") in ("*", media):
                    if fault.get("after", 0) > 0:  # this many matching requests pass first
                        fault["after"] -= 1
                        return None
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.faults.remove(fault)
                    return fault
        return None


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _envelope(status: int, message: str, data: Any) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "data": data, "timestamp": _now_iso()}


def _platform(response: Any) -> dict[str, Any]:
    return _envelope(
        200, "Success", {"status_code": 200, "data": {"success": True, "response": response}}
    )


_ERRORS = {
    400: "Invalid request parameters",
    401: "Invalid or missing API key",
    402: "Insufficient credits. Please upgrade your plan or wait for renewal.",
    403: "Forbidden: this key may not access this account",
    404: "Account not found",
    429: "Rate limit exceeded. Please wait before making more requests.",
    500: "Internal server error",
}


def _error(status: int, message: str | None = None) -> dict[str, Any]:
    return _envelope(status, message or _ERRORS.get(status, "Error"), None)


def _graph_error(wrap: str) -> tuple[int, dict[str, Any]]:
    platform = {"success": False, "error": {"code": 99, "message": "error getting graph"}}
    if wrap == "outer":
        return 500, _envelope(500, "error getting graph", None)
    return 200, _envelope(200, "Success", {"status_code": 500, "data": platform})


def _buckets(after: int, before: int, period: int, limit: int) -> list[int]:
    """Bucket starts the API answers for [after, before], newest first, at most ``limit``."""
    last = before // period * period
    first = -(-after // period) * period
    count = min(limit, max(0, (last - first) // period + 1))
    return [last - i * period for i in range(count)]


def dataset(
    account: str,
    media: str,
    after: int,
    before: int,
    period: int,
    limit: int = DATAPOINT_LIMIT,
    now_ms: int | None = None,
    anomaly_days: frozenset[int] | None = None,
) -> dict[str, Any]:
    """Build the ``response`` the platform gives for one media offer and window (asked at
    ``now_ms``, default now)."""
    if before < FAR_PAST_MS:
        zero = dict.fromkeys(STAT_FIELDS, 0)
        points = [{"timestamp": before // period * period, "stats": [{"type": 1, **zero}]}]
    else:
        points = []
        for ts in _buckets(after, before, period, limit):
            stats = bucket_stats(account, media, period, ts, now_ms, anomaly_days)
            if stats is not None:
                points.append({"timestamp": ts, "stats": stats})
    return {
        "dataset": {
            "period": period,
            "dateBefore": before // period * period,
            "dateAfter": after,
            "datapointLimit": limit,
            "datapoints": points,
            "topFypTags": [],
            "datasetMediaOfferId": media,
        },
        "aggregationData": {
            "accountMedia": [media_entry(account, media)],
            "accountMediaBundles": [],
            "tags": [],
            "creatorMediaOfferLocations": [],
        },
    }


def _day_numbers(days: list[str] | None) -> frozenset[int] | None:
    """ISO dates as day numbers since the epoch (``None`` stays ``None``)."""
    if days is None:
        return None
    return frozenset((date.fromisoformat(d) - date(1970, 1, 1)).days for d in days)


def corrupt(response: dict[str, Any], kind: str, period: int) -> None:
    """Make a successful dataset invalid in the way ``kind`` names (in place)."""
    if kind == "short_coverage":
        response["dataset"]["dateAfter"] += period
        return
    if kind == "wrong_media":
        response["dataset"]["datasetMediaOfferId"] += "-other"
        return
    if kind == "seconds":
        for point in response["dataset"]["datapoints"]:
            point["timestamp"] //= 1000
        return
    points = response["dataset"]["datapoints"]
    with_stats = [p for p in points if p["stats"]] or points
    if not with_stats:
        return
    point = with_stats[-1]  # the oldest: inside the window (the newest may be at beforeDate)
    stat = point["stats"][0] if point["stats"] else None
    if kind == "off_grid":
        point["timestamp"] += period // 2
    elif kind == "duplicate_bucket":
        twin = json.loads(json.dumps(point))
        for s in twin["stats"]:
            s["views"] += 5
            s["uniqueViewers"] += 1
        points.append(twin)
    elif stat is None:
        return
    elif kind == "negative_counts":
        stat["views"] = -3
    elif kind == "unknown_stat_type":
        point["stats"].append({**stat, "type": 97})
    elif kind == "extra_fields":
        for s in point["stats"]:
            s["newShinyMetric"] = 7
    elif kind == "wrong_types":
        stat["views"] = "many"
    elif kind == "unique_gt_views":
        stat["uniqueViewers"] = stat["views"] + 10


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and demos read the emulator's counters, not its access log."""

    # -- plumbing ----------------------------------------------------------------------------
    def _send(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    # -- control routes ------------------------------------------------------------------
    def _control(self, method: str, path: str) -> None:
        state = self.server.state
        if method == "GET" and path == "/_emulator/stats":
            with state.lock:
                return self._json(200, {**state.counts, "log": state.log[-1000:]})
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null") if length else None
        if method == "POST" and path == "/_emulator/faults":
            try:
                state.add_faults(body if isinstance(body, list) else [body])
            except ValueError as exc:
                return self._json(400, {"error": str(exc)})
            return self._json(200, {"faults": len(state.faults)})
        if method == "POST" and path == "/_emulator/reset":
            state.reset()
            return self._json(200, {"reset": True})
        if method == "POST" and path == "/_emulator/config":
            for key, value in (body or {}).items():
                if not hasattr(state.config, key):
                    return self._json(400, {"error": f"unknown setting {key!r}"})
                setattr(
                    state.config,
                    key,
                    set(value)
                    if isinstance(value, list) and key in ("api_keys", "deleted_media")
                    else value,
                )
            return self._json(200, {"config": "updated"})
        return self._json(404, {"error": "unknown control route"})

    def do_POST(self) -> None:
        self._control("POST", urlsplit(self.path).path)

    # -- the API ---------------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith("/_emulator/"):
            return self._control("GET", url.path)
        state, cfg = self.server.state, self.server.state.config
        if self.headers.get("x-api-key") not in cfg.api_keys:
            with state.lock:
                state.counts["requests"] += 1
            return self._json(401, _error(401))
        refused, headers = state.admit(time.monotonic())
        if refused:
            return self._json(refused, _error(refused), headers)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if parts == ["api", "fansly", "accounts"]:
            accounts = [{"id": a, "username": a.removeprefix("fansly_")} for a in cfg.accounts]
            return self._json(200, _envelope(200, "Success", accounts), headers)
        if (
            len(parts) != 6
            or parts[:2] != ["api", "fansly"]
            or parts[3:5] != ["analytics", "media"]
        ):
            return self._json(404, _error(404, "Route not found"), headers)
        self._media(parts[2], parts[5], parse_qs(url.query), headers)

    def _media(
        self, account: str, media: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> None:
        state, cfg = self.server.state, self.server.state.config
        if account not in cfg.accounts:
            return self._json(404, _error(404), headers)
        try:
            period = int(query.get("period", ["86400000"])[0])
            before = int(query.get("beforeDate", [str(int(time.time() * 1000))])[0])
            after = int(query.get("afterDate", [str(before - 30 * 86_400_000)])[0])
        except ValueError:
            return self._json(400, _error(400), headers)
        if period <= 0 or after > before:
            return self._json(400, _error(400), headers)
        with state.lock:
            state.log.append(
                {
                    "media": media,
                    "after": after,
                    "before": before,
                    "period": period,
                    "at": time.monotonic(),
                }
            )
        if cfg.latency:
            time.sleep(cfg.latency)
        fault = state.take_fault(media, ANSWER_FAULTS)
        if fault is not None:
            return self._fault(fault, headers)
        if media in cfg.deleted_media:
            return self._json(*_graph_error(cfg.upstream_wrap), headers)
        if state.take_fault(media, QUESTION_FAULTS) is not None:
            period = DAY_MS if period != DAY_MS else HOUR_MS  # answers another period
        response = dataset(
            account, media, after, before, period, cfg.datapoint_limit, cfg.clock_ms,
            _day_numbers(cfg.anomaly_days),
        )  # fmt: skip
        for kind in sorted(DATA_FAULTS):
            if state.take_fault(media, {kind}) is not None:
                corrupt(response, kind, period)
        with state.lock:
            state.counts["served"] += 1
        self._json(200, _platform(response), headers)

    def _fault(self, fault: dict[str, Any], headers: dict[str, str]) -> None:
        kind = fault["kind"]
        if kind == "reset":
            return self._reset()
        if kind == "slow":
            time.sleep(float(fault.get("seconds", 5)))
            return self._json(200, _error(500, "answered too late"), headers)
        if kind == "server_error":
            return self._json(500, _error(500), headers)
        if kind == "bad_gateway_html":
            html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            return self._send(502, html, headers, content_type="text/html")
        if kind == "truncated":
            body = json.dumps(_platform({"dataset": {"datapoints": []}})).encode()
            return self._send(200, body[: len(body) // 2], headers)
        if kind == "upstream_error":
            return self._json(*_graph_error("inner"), headers)
        if kind == "upstream_error_outer":
            return self._json(*_graph_error("outer"), headers)
        if kind == "rate_limit":
            retry = {
                **headers,
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Retry-After": str(fault.get("retry_after", 1)),
            }
            with self.server.state.lock:
                self.server.state.counts["rate_limited"] += 1
            return self._json(429, _error(429), retry)
        status = int(fault.get("status", 500))
        self._json(status, _error(status, fault.get("message")), headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: EmulatorConfig) -> None:
        super().__init__(address, _Handler)
        self.state = _State(config)


class Emulator:
    """Run the emulator in a background thread: ``with Emulator() as emu: emu.url``."""

    def __init__(
        self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or EmulatorConfig()
        self._host = host
        self._server = _Server((host, port), self.config)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to put in a connection's host."""
        return f"http://{self._host}:{self._server.server_port}"

    @property
    def state(self) -> _State:
        """Counters, faults and the request log (for in-process tests)."""
        return self._server.state

    def add_faults(self, *faults: dict[str, Any]) -> None:
        """Queue faults, e.g. ``{"kind": "server_error", "times": 2, "media": "m1"}``."""
        self.state.add_faults(list(faults))

    def __enter__(self) -> Emulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fansly-emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--api-key", action="append", help=f"accepted key (default {DEFAULT_KEY})")
    parser.add_argument("--account", action="append", help="connected account id (repeatable)")
    parser.add_argument("--rate-limit", type=int, help="requests per window per key")
    parser.add_argument("--rate-window", type=float, default=60.0, help="seconds")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--credits", type=int, help="credits left in the month")
    parser.add_argument("--upstream-wrap", choices=("inner", "outer"), default="inner")
    parser.add_argument(
        "--datapoint-limit",
        type=int,
        default=DATAPOINT_LIMIT,
        help="buckets per answer (datapointLimit), the newest kept",
    )
    parser.add_argument(
        "--anomaly-day",
        action="append",
        help="a day (YYYY-MM-DD) of the zero-/spike-/split- anomalies (repeatable; default: "
        "every 20th day)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted (the ``fansly-emulator`` console script)."""
    args = _parse_args(argv)
    config = EmulatorConfig(
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        latency=args.latency_ms / 1000,
        credits=args.credits,
        upstream_wrap=args.upstream_wrap,
        datapoint_limit=args.datapoint_limit,
        anomaly_days=args.anomaly_day,
    )
    if args.api_key:
        config.api_keys = set(args.api_key)
    if args.account:
        config.accounts = list(args.account)
    server = _Server((args.host, args.port), config)
    port = server.server_address[1]
    if args.port_file:
        with open(args.port_file, "w") as fh:
            fh.write(str(port))
    print(f"fansly-emulator listening on http://{args.host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
