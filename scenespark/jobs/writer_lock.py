"""One writer per embedded store (docs/architecture.md §10).

An embedded Chroma store belongs to one process. The process that writes (a server, or an
``index`` CLI run) holds an exclusive ``flock`` on ``$SCENESPARK_HOME/writer.lock`` for as long as
it lives; a server also records its URL in ``server.json`` so a CLI can hand work to it instead of
writing behind its back. The kernel drops the lock when the process dies (even on SIGKILL), so a
crash never leaves a stale lock. With a Chroma server (``SCENESPARK_CHROMA_URL``) several processes
may write, and no lock is taken.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from typing import IO

from scenespark.config import Settings
from scenespark.errors import ConflictError

LOCK_NAME = "writer.lock"
SERVER_INFO_NAME = "server.json"


@dataclass
class RunningServer:
    url: str
    pid: int


class WriterLock:
    def __init__(self, settings: Settings, *, role: str) -> None:
        self.settings = settings
        self.role = role
        self._handle: IO[str] | None = None

    @property
    def required(self) -> bool:
        return not self.settings.chroma_url

    def try_acquire(self) -> bool:
        if not self.required:
            return True
        self.settings.ensure_dirs()
        handle = (self.settings.home / LOCK_NAME).open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "role": self.role}))
        handle.flush()
        self._handle = handle
        return True

    def acquire(self) -> None:
        if self.try_acquire():
            return
        server = running_server(self.settings)
        if server is not None:
            raise ConflictError(
                f"a SceneSpark server (pid {server.pid}, {server.url}) owns the index in "
                f"{self.settings.home}",
                hint="add videos through it (`scenespark index add` hands paths to it), or stop it",
            )
        raise ConflictError(
            f"another SceneSpark process is writing the index in {self.settings.home}",
            hint="wait for it to finish, or use a Chroma server (SCENESPARK_CHROMA_URL)",
        )

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def publish_server(settings: Settings, url: str) -> None:
    path = settings.home / SERVER_INFO_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    os.replace(tmp, path)


def withdraw_server(settings: Settings) -> None:
    path = settings.home / SERVER_INFO_NAME
    with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, OSError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def running_server(settings: Settings) -> RunningServer | None:
    """The server that owns this data dir, if one is alive."""
    path = settings.home / SERVER_INFO_NAME
    try:
        info = json.loads(path.read_text())
        pid = int(info["pid"])
        url = str(info["url"])
    except (FileNotFoundError, ValueError, KeyError, TypeError, OSError):
        return None
    if pid == os.getpid() or not _alive(pid):
        return None
    return RunningServer(url=url, pid=pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
