"""``fansly-emulator``: run the emulator from the shell."""

from __future__ import annotations

import argparse

from airflow_provider_fansly.client.windows import DATAPOINT_LIMIT
from airflow_provider_fansly.testing.emulator.server import EmulatorServer
from airflow_provider_fansly.testing.emulator.state import DEFAULT_KEY, EmulatorConfig

__all__ = ["main"]


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
    server = EmulatorServer((args.host, args.port), config)
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
