"""The CLI as a thin client of the server that owns the data dir.

When a server runs on this data dir (``server.json``, written by the server), ``scenespark
search``, ``highlight``, ``index add`` and ``index remove`` go through its HTTP API instead of
loading models or writing behind its back. Only light modules are imported here (the standard
library's HTTP client, pydantic models): no torch, llama-index or chromadb — not even httpx, whose
import alone costs ~0.3 s — so a search answers in a fraction of a second.

The client proves it is local with the token the server writes to ``server.token`` (readable
only by whoever can read the data dir) and sends ``SCENESPARK_API_TOKEN`` as a Bearer token
when it is set. HTTP problems come back as the matching ``SceneSparkError`` (one line, exit code).
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scenespark.config import Settings
from scenespark.errors import (
    AuthenticationError,
    ConflictError,
    ForbiddenRequestError,
    InvalidInputError,
    MediaError,
    ModelUnavailableError,
    NotFoundError,
    PathNotAllowedError,
    PayloadTooLargeError,
    QueueFullError,
    SceneSparkError,
    StoreError,
    ValidationFailedError,
)
from scenespark.jobs.writer_lock import running_server

LOCAL_TOKEN_FILE = "server.token"  # server.runtime.LOCAL_TOKEN_NAME (not imported: it is heavy)
LOCAL_TOKEN_HEADER = "X-SceneSpark-Token"
REQUEST_TIMEOUT_S = 60.0
POLL_S = 0.3
FINISHED = frozenset({"done", "failed", "cancelled"})

_ERRORS_BY_STATUS: dict[int, type[SceneSparkError]] = {
    400: InvalidInputError,
    403: PathNotAllowedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationFailedError,
    503: StoreError,
}

JobProgress = Callable[[dict[str, Any]], None]


class ServerClient:
    """Talks to the running server at ``url`` on behalf of the CLI."""

    def __init__(self, settings: Settings, url: str) -> None:
        self.settings = settings
        self.url = url.rstrip("/")
        self.headers: dict[str, str] = {}
        # without the local token the server only accepts paths inside its library roots
        with contextlib.suppress(OSError):
            self.headers[LOCAL_TOKEN_HEADER] = (
                (settings.home / LOCAL_TOKEN_FILE).read_text().strip()
            )
        api_token = settings.api_token.get_secret_value().strip()
        if api_token:
            self.headers["Authorization"] = f"Bearer {api_token}"

    def close(self) -> None:
        return None  # one connection per request: nothing to release

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport
    def call(
        self, method: str, path: str, *, json: Any = None, timeout_s: float | None = None
    ) -> Any:
        """One request; the parsed JSON answer (None for an empty one), or a SceneSparkError."""
        data = None if json is None else jsonlib.dumps(json).encode()
        headers = {**self.headers, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(
                request, timeout=timeout_s if timeout_s is not None else REQUEST_TIMEOUT_S
            ) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise error_from_response(
                Answer(exc.code, exc.read() if exc.fp is not None else b"", dict(exc.headers))
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConflictError(
                f"a SceneSpark server owns {self.settings.home} but did not answer at "
                f"{self.url}: {' '.join(str(reason).split()) or type(exc).__name__}",
                hint="stop it, or wait until it answers",
            ) from exc
        return jsonlib.loads(body) if body else None

    # ------------------------------------------------------------------ API
    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/api/v1/search", json=body)

    def start_highlight(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/api/v1/highlights", json=body)

    def add_path(self, path: str, *, force: bool = False) -> dict[str, Any]:
        return self.call("POST", "/api/v1/videos", json={"path": path, "force": force})

    def videos(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/api/v1/videos").get("videos", []))

    def remove_video(self, video_id: str) -> None:
        self.call("DELETE", f"/api/v1/videos/{video_id}")

    def job(self, request_id: str) -> dict[str, Any]:
        return self.call("GET", f"/api/v1/jobs/{request_id}")

    def jobs(self, limit: int = 20) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/v1/jobs?limit={int(limit)}"))

    def cancel(self, request_id: str) -> dict[str, Any]:
        return self.call("DELETE", f"/api/v1/jobs/{request_id}", timeout_s=30.0)

    def follow(
        self, request_id: str, on_progress: JobProgress | None = None, *, poll_s: float = POLL_S
    ) -> dict[str, Any]:
        """Poll a job until it is done, failed or cancelled; Ctrl+C cancels it on the server."""
        try:
            while True:
                job = self.job(request_id)
                if on_progress is not None:
                    on_progress(job)
                if job.get("status") in FINISHED:
                    return job
                time.sleep(poll_s)
        except KeyboardInterrupt:
            with contextlib.suppress(SceneSparkError):  # finished meanwhile, or server gone
                self.cancel(request_id)
            raise


@dataclass
class Answer:
    """An HTTP error answer: status, body, headers (lower-case names)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.headers = {k.lower(): v for k, v in self.headers.items()}


def error_from_response(response: Answer) -> SceneSparkError:
    """A problem+json answer as the SceneSparkError of its status (one line for the CLI)."""
    detail = ""
    try:
        body = jsonlib.loads(response.body or b"null")
        if isinstance(body, dict):
            detail = str(body.get("detail") or body.get("title") or "")
    except ValueError:
        pass
    status = response.status
    message = detail or f"the server answered HTTP {status}"
    if status == 429:
        retry = response.headers.get("retry-after", "30")
        return QueueFullError(message, retry_after_s=int(retry) if retry.isdigit() else 30)
    if status == 401:
        return AuthenticationError(message, hint="set SCENESPARK_API_TOKEN to the server's token")
    if status == 403 and "library root" not in message.lower():
        return ForbiddenRequestError(message)
    if status == 422 and "media" in message.lower():
        return MediaError(message)
    if status == 503 and "model" in message.lower():
        return ModelUnavailableError(message)
    cls = _ERRORS_BY_STATUS.get(status, SceneSparkError)
    return cls(message)


def connect(settings: Settings) -> ServerClient | None:
    """A client of the server that owns ``settings.home``, or None when none is running."""
    server = running_server(settings)
    return ServerClient(settings, server.url) if server is not None else None


def job_follow_hint(request_id: str) -> str:
    return f"scenespark jobs {request_id} --wait"
