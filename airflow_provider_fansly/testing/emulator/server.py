"""A local emulator of the Fansly API's media-statistics route, for tests, demos and offline DAGs.

It answers like the vendor (see docs/emulator.md): both envelopes, every error shape, the
``/api/fansly/accounts`` route, rate-limit headers and 429s over a sliding window, credits,
UTC-aligned buckets newest first including the bucket at ``beforeDate``, the 100-bucket cap,
quiet buckets, and deterministic stats from :mod:`.synthetic`. Faults are injected over HTTP
(``POST /_emulator/faults``) so a running emulator can be steered from another process.

Run it with ``fansly-emulator --port 8765``; in Python, ``with Emulator() as emu: emu.url``.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.testing.catalogue import Catalogue
from airflow_provider_fansly.testing.emulator.answers import (
    dataset,
    day_numbers,
    envelope,
    error,
    graph_error,
    platform,
    profile_dataset,
)
from airflow_provider_fansly.testing.emulator.faults import (
    ANSWER_FAULTS,
    DATA_FAULTS,
    QUESTION_FAULTS,
    corrupt,
)
from airflow_provider_fansly.testing.emulator.state import EmulatorConfig, EmulatorState

__all__ = ["Emulator", "EmulatorServer"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorServer

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
            return self._json(401, error(401))
        refused, headers = state.admit(time.monotonic())
        if refused:
            return self._json(refused, error(refused), headers)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if parts == ["api", "fansly", "accounts"]:
            accounts = [{"id": a, "username": a.removeprefix("fansly_")} for a in cfg.accounts]
            return self._json(200, envelope(200, "Success", accounts), headers)
        if parts[:2] == ["api", "fansly"] and parts[3:] == ["analytics", "profilestats"]:
            return self._profile(parts[2], parse_qs(url.query), headers)
        if (
            len(parts) != 6
            or parts[:2] != ["api", "fansly"]
            or parts[3:5] != ["analytics", "media"]
        ):
            return self._json(404, error(404, "Route not found"), headers)
        self._media(parts[2], parts[5], parse_qs(url.query), headers)

    def _window(self, query: dict[str, list[str]]) -> tuple[int, int, int] | None:
        """``(after, before, period)`` of a query (the API's defaults), ``None`` if bad."""
        try:
            period = int(query.get("period", ["86400000"])[0])
            before = int(query.get("beforeDate", [str(int(time.time() * 1000))])[0])
            after = int(query.get("afterDate", [str(before - 30 * 86_400_000)])[0])
        except ValueError:
            return None
        return None if period <= 0 or after > before else (after, before, period)

    def _profile(self, account: str, query: dict[str, list[str]], headers: dict[str, str]) -> None:
        state, cfg = self.server.state, self.server.state.config
        if account not in cfg.accounts and Catalogue.of(account) is None:
            return self._json(404, error(404), headers)
        window = self._window(query)
        if window is None:
            return self._json(400, error(400), headers)
        with state.lock:
            state.log.append({"profile": account, "after": window[0], "before": window[1],
                              "period": window[2], "at": time.monotonic()})  # fmt: skip
            state.counts["served"] += 1
        answer = profile_dataset(account, *window, cfg.datapoint_limit)
        self._json(200, platform(answer), headers)

    def _media(
        self, account: str, media: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> None:
        state, cfg = self.server.state, self.server.state.config
        if account not in cfg.accounts and Catalogue.of(account) is None:
            return self._json(404, error(404), headers)
        window = self._window(query)
        if window is None:
            return self._json(400, error(400), headers)
        after, before, period = window
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
            return self._json(*graph_error(cfg.upstream_wrap), headers)
        if state.take_fault(media, QUESTION_FAULTS) is not None:
            period = DAY_MS if period != DAY_MS else HOUR_MS  # answers another period
        response = dataset(
            account, media, after, before, period, cfg.datapoint_limit, cfg.clock_ms,
            day_numbers(cfg.anomaly_days),
        )  # fmt: skip
        for kind in sorted(DATA_FAULTS):
            if state.take_fault(media, {kind}) is not None:
                corrupt(response, kind, period)
        with state.lock:
            state.counts["served"] += 1
        self._json(200, platform(response), headers)

    def _fault(self, fault: dict[str, Any], headers: dict[str, str]) -> None:
        kind = fault["kind"]
        if kind == "reset":
            return self._reset()
        if kind == "slow":
            time.sleep(float(fault.get("seconds", 5)))
            return self._json(200, error(500, "answered too late"), headers)
        if kind == "server_error":
            return self._json(500, error(500), headers)
        if kind == "bad_gateway_html":
            html = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            return self._send(502, html, headers, content_type="text/html")
        if kind == "truncated":
            body = json.dumps(platform({"dataset": {"datapoints": []}})).encode()
            return self._send(200, body[: len(body) // 2], headers)
        if kind == "upstream_error":
            return self._json(*graph_error("inner"), headers)
        if kind == "upstream_error_outer":
            return self._json(*graph_error("outer"), headers)
        if kind == "rate_limit":
            retry = {
                **headers,
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Retry-After": str(fault.get("retry_after", 1)),
            }
            with self.server.state.lock:
                self.server.state.counts["rate_limited"] += 1
            return self._json(429, error(429), retry)
        status = int(fault.get("status", 500))
        self._json(status, error(status, fault.get("message")), headers)


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], config: EmulatorConfig) -> None:
        super().__init__(address, _Handler)
        self.state = EmulatorState(config)


class Emulator:
    """Run the emulator in a background thread: ``with Emulator() as emu: emu.url``."""

    def __init__(
        self, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.config = config or EmulatorConfig()
        self._host = host
        self._server = EmulatorServer((host, port), self.config)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to put in a connection's host."""
        return f"http://{self._host}:{self._server.server_port}"

    @property
    def state(self) -> EmulatorState:
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
