"""``trustsim-app``: serve the page on ``http://127.0.0.1:$PORT`` (default 8765).

Runs Solara's own ``solara run`` command in this process (no child process to lose), in
production mode, without opening a browser, checking PyPI for a newer Solara, or
sending Solara's usage telemetry.
"""

import logging
import os
import socket
import sys

DEFAULT_PORT = 8765
HOST = "127.0.0.1"
APP = "sim.app.page:Page"


def _port() -> int:
    raw = os.environ.get("PORT", "").strip() or str(DEFAULT_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"PORT={raw!r}: allowed a port number in [1, 65535]")
    return int(raw)


def _check_free(port: int) -> None:
    """Refuse a port another program holds, before the server prints that it is starting."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind((HOST, port))
        except OSError as err:
            raise ValueError(f"PORT={port}: allowed a free port ({err.strerror})") from None


def main() -> int:
    """Start the page server; returns (or exits with) the server's status."""
    try:
        port = _port()
        _check_free(port)
    except ValueError as err:
        print(f"trustsim-app: error: {err}", file=sys.stderr)
        return 2
    # Read by Solara's settings when first imported, so set before importing it.
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("MPLBACKEND", "Agg")
    logging.basicConfig(level=logging.WARNING, format="trustsim-app: %(message)s")

    from sim.app.assets import ensure_frontend_assets

    missing = ensure_frontend_assets()
    if missing:
        names = ", ".join(f"{n}@{v}" for n, v in missing)
        print(
            f"trustsim-app: warning: {names} not cached; the page loads them from the CDN,"
            " which needs internet access",
            file=sys.stderr,
        )
    from solara.__main__ import cli

    print(f"trustsim-app: the classroom page is at http://{HOST}:{port}", flush=True)
    args = ["run", APP, "--host", HOST, "--port", str(port), "--production"]
    args += ["--no-open", "--no-check-version"]
    return cli.main(args=args, prog_name="trustsim-app", standalone_mode=True)
