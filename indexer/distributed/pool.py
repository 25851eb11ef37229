"""A pool of actors of one stage: a caller borrows an idle actor, calls it, gives it back.

Failures: an actor that dies (its process or its whole node killed) is dropped and the call is
retried on another actor of the stage, so a killed worker's work is redone elsewhere. When the
last actor of a stage is lost, a replacement is started wherever Ray finds room (it reserves no
CPU, so a full cluster can still place it). A file a node cannot see is retried on other nodes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray
from ray.exceptions import (
    GetTimeoutError,
    NodeDiedError,
    ObjectLostError,
    OutOfMemoryError,
    RayActorError,
    RayTaskError,
    WorkerCrashedError,
)

from scenespark.errors import ClusterError, MediaNotVisibleError, SceneSparkError

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 4
MAX_REPLACEMENTS = 8
_LOST = (RayActorError, WorkerCrashedError, NodeDiedError, ObjectLostError, OutOfMemoryError)


@dataclass
class _Member:
    handle: Any
    node_id: str  # "" for a replacement placed anywhere


@dataclass
class StagePool:
    stage: str
    make: Callable[[str | None], Any]  # node id (None = anywhere) -> actor handle
    members: list[_Member] = field(default_factory=list)
    _idle: list[_Member] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _replaced: int = 0

    def add(self, node_id: str) -> None:
        member = _Member(self.make(node_id), node_id)
        with self._cond:
            self.members.append(member)
            self._idle.append(member)
            self._cond.notify()

    def size(self) -> int:
        with self._cond:
            return len(self.members)

    def call(self, method: str, *args: Any) -> Any:
        """Run ``actor.method(*args)`` on an idle actor of the stage; the cause of a stage error
        is raised as is (a SceneSparkError) or as a ClusterError."""
        excluded: set[str] = set()
        last = ""
        for _attempt in range(MAX_ATTEMPTS):
            member = self._borrow(excluded)
            try:
                result = ray.get(getattr(member.handle, method).remote(*args))
            except _LOST as exc:
                self._drop(member)
                last = _one_line(exc)
                log.warning(
                    "lost a Ray worker of the %s stage (%s); retrying on another",
                    self.stage,
                    last[:160],
                )
                continue
            except RayTaskError as exc:
                self._give_back(member)
                cause = exc.cause if isinstance(exc.cause, BaseException) else None
                if isinstance(cause, MediaNotVisibleError) and member.node_id:
                    excluded.add(member.node_id)
                    last = cause.one_line()
                    if self._has_candidate(excluded):
                        continue
                    raise MediaNotVisibleError(
                        f"{last} (no Ray node can read it: mount the media at the same path "
                        "on every node)"
                    ) from None
                if isinstance(cause, SceneSparkError):
                    raise cause from None
                raise ClusterError(
                    f"the {self.stage} stage failed: {_one_line(cause or exc)}"
                ) from None
            except GetTimeoutError as exc:  # pragma: no cover - ray.get has no timeout here
                self._give_back(member)
                raise ClusterError(f"the {self.stage} stage timed out: {exc}") from None
            self._give_back(member)
            return result
        raise ClusterError(
            f"the {self.stage} stage lost its Ray workers {MAX_ATTEMPTS} times; last: {last}"
        )

    def stop(self) -> None:
        with self._cond:
            members, self.members, self._idle = list(self.members), [], []
        for member in members:
            with contextlib.suppress(Exception):  # already gone with its node
                ray.kill(member.handle)

    # --- internals -----------------------------------------------------------------------
    def _has_candidate(self, excluded: set[str]) -> bool:
        with self._cond:
            return any(m.node_id not in excluded for m in self.members)

    def _borrow(self, excluded: set[str]) -> _Member:
        with self._cond:
            while True:
                for member in self._idle:
                    if member.node_id not in excluded:
                        self._idle.remove(member)
                        return member
                if not any(m.node_id not in excluded for m in self.members):
                    self._replace_locked()
                    continue
                self._cond.wait(timeout=1.0)

    def _give_back(self, member: _Member) -> None:
        with self._cond:
            if member in self.members:
                self._idle.append(member)
                self._cond.notify()

    def _drop(self, member: _Member) -> None:
        with self._cond:
            if member in self.members:
                self.members.remove(member)
            if not self.members:
                self._replace_locked()
            self._cond.notify_all()

    def _replace_locked(self) -> None:
        if self._replaced >= MAX_REPLACEMENTS:
            raise ClusterError(f"the {self.stage} stage has no Ray worker left")
        self._replaced += 1
        member = _Member(self.make(None), "")
        self.members.append(member)
        self._idle.append(member)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
