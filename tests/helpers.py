"""Small helpers shared by several test files (not fixtures: plain functions)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_cli() -> Path:
    return Path(sys.executable).with_name("chroma")


@contextlib.contextmanager
def chroma_server(data_dir: Path, log_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real `chroma run` server on 127.0.0.1 (yields the process and its URL); stopped after."""
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(chroma_cli()), "run", "--path", str(data_dir), "--host", "127.0.0.1",
             "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield server, f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
