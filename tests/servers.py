"""Starting servers of our own in tests: a free port, and gunicorn as `make serve` runs it."""

from __future__ import annotations

import socket
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gunicorn_command(port: int, *options: str) -> list[str]:
    """gunicorn with the project's config module (as `make serve`, one worker), bound to
    127.0.0.1:`port`, with further `options`."""
    return [
        str(Path(sys.executable).parent / "gunicorn"),
        "eligibility.wsgi",
        "--config",
        "python:eligibility.gunicorn_conf",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        *options,
    ]
