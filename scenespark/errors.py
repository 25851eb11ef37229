"""The SceneSpark error hierarchy.

Every error a user can cause or meet derives from :class:`SceneSparkError`. Each class carries the
HTTP status and a short title, so the CLI (one line, exit code != 0) and the server (problem+json)
map them in exactly one place each: ``server.cli`` and ``server.problems``.
"""

from __future__ import annotations


class SceneSparkError(Exception):
    """Base class. ``str(err)`` is the one-line message shown to the user."""

    status: int = 500
    title: str = "SceneSpark error"
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def http_headers(self) -> dict[str, str]:
        """Headers an HTTP error response must carry (e.g. ``WWW-Authenticate`` on a 401)."""
        return {}

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        if self.hint:
            text = f"{text} ({' '.join(self.hint.split())})"
        return text


class InvalidInputError(SceneSparkError):
    """The request or argument is malformed (bad query, bad parameter)."""

    status = 400
    title = "Invalid input"
    exit_code = 2


class ValidationFailedError(InvalidInputError):
    """Well-formed but semantically impossible (e.g. min_clip_s > max_clip_s)."""

    status = 422
    title = "Unprocessable request"


class NotFoundError(SceneSparkError):
    status = 404
    title = "Not found"
    exit_code = 3


class PathNotAllowedError(SceneSparkError):
    """A path resolves outside the configured library roots (traversal, symlink escape)."""

    status = 403
    title = "Path not allowed"
    exit_code = 2


class AuthenticationError(SceneSparkError):
    """The request lacks a valid API token (``SCENESPARK_API_TOKEN``)."""

    status = 401
    title = "Authentication required"
    exit_code = 2

    def http_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="scenespark"'}


class ForbiddenRequestError(SceneSparkError):
    """A request the server refuses to act on (e.g. a write from another web origin)."""

    status = 403
    title = "Forbidden"
    exit_code = 2


class UnknownHostError(SceneSparkError):
    """The ``Host`` header names a host this server does not answer to (DNS rebinding).

    400 rather than 421: browsers retry a 421 on a new connection and then show a network error,
    hiding the one-line reason from a user who reached the server under an unlisted name."""

    status = 400
    title = "Unknown host"
    exit_code = 2


class UnsupportedMediaTypeError(SceneSparkError):
    """The request body's Content-Type is not one the route accepts."""

    status = 415
    title = "Unsupported media type"
    exit_code = 2


class PayloadTooLargeError(SceneSparkError):
    status = 413
    title = "Payload too large"
    exit_code = 2


class InsufficientStorageError(SceneSparkError):
    """A storage quota (e.g. ``SCENESPARK_UPLOAD_QUOTA_MB``) would be exceeded."""

    status = 507
    title = "Insufficient storage"
    exit_code = 2


class MediaError(SceneSparkError):
    """A file is not a readable video (corrupt, truncated, empty, audio-only, ...)."""

    status = 422
    title = "Unreadable media"
    exit_code = 4


class MediaNotVisibleError(MediaError):
    """A cluster worker cannot read a file the driver can (the media is not shared there)."""


class ConflictError(SceneSparkError):
    """The store is owned by another process, or the resource is in a conflicting state."""

    status = 409
    title = "Conflict"
    exit_code = 5


class QueueFullError(SceneSparkError):
    """A job queue is at its limit; the client may retry after ``retry_after_s`` seconds."""

    status = 429
    title = "Too many queued jobs"
    exit_code = 5

    def __init__(self, message: str, *, retry_after_s: int = 30, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = max(1, int(retry_after_s))

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class ModelUnavailableError(SceneSparkError):
    """A configured or bundled model cannot be found or loaded."""

    status = 503
    title = "Model unavailable"
    exit_code = 6


class StoreError(SceneSparkError):
    """The vector store or catalog failed (or an embedding space mismatch was refused)."""

    status = 503
    title = "Store error"
    exit_code = 7


class RenderError(SceneSparkError):
    """ffmpeg failed to render a clip or reel; the message carries its last stderr lines."""

    status = 500
    title = "Render failed"
    exit_code = 8


class LLMError(SceneSparkError):
    """The LLM endpoint failed or returned unusable output (callers fall back, never crash)."""

    status = 502
    title = "LLM endpoint error"
    exit_code = 9


class ConfigError(SceneSparkError):
    status = 500
    title = "Configuration error"
    exit_code = 2


class ClusterError(SceneSparkError):
    """The Ray cluster cannot be reached or lost the work (``index add --ray``)."""

    status = 503
    title = "Cluster unavailable"
    exit_code = 10
