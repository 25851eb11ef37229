"""The ONE mapping of errors to RFC 9457 problem details (``application/problem+json``).

Every error response of the server goes through here: SceneSpark errors (each class carries its
HTTP ``status`` and ``title``), Litestar's HTTP exceptions (validation, unknown route, body too
large, method not allowed) and anything unexpected (a 500 with a generic detail, the traceback
goes to the log only). A response never carries a traceback.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel, Field

from scenespark.errors import SceneSparkError
from server.paths import relative_paths

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:scenespark:problem:"
MAX_LISTED_ERRORS = 20

log = logging.getLogger("scenespark.server")


class FieldError(BaseModel):
    field: str = Field(description="where the bad value is, e.g. 'body.top_k'")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    type: str = Field(examples=["urn:scenespark:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field("", examples=["no indexed video with id 'abc'"])
    instance: str = Field("", description="the request path")
    hint: str | None = None
    errors: list[FieldError] | None = None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "error"


def problem_response(
    request: Request | None,
    *,
    status: int,
    title: str,
    detail: str = "",
    hint: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    problem = Problem(
        type=f"{TYPE_PREFIX}{_slug(title)}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else "",
        hint=hint,
        errors=errors,
    )
    return Response(
        content=problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _field_errors(extra: object) -> list[FieldError]:
    errors: list[FieldError] = []
    items = extra if isinstance(extra, list) else [extra] if isinstance(extra, dict) else []
    for item in items[:MAX_LISTED_ERRORS]:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "")
        source = str(item.get("source") or "")
        where = ".".join(part for part in (source, key) if part) or "request"
        errors.append(FieldError(field=where, message=str(item.get("message") or "invalid")))
    return errors


def _without_server_paths(request: Request, text: str) -> str:
    """Error details name paths relative to a library root or the data dir, never absolute."""
    runtime = getattr(request.app.state, "runtime", None)
    settings = getattr(runtime, "settings", None)
    return relative_paths(text, settings) if settings is not None else text


def handle_scenespark_error(request: Request, exc: SceneSparkError) -> Response[dict[str, Any]]:
    if exc.status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.one_line())
    return problem_response(
        request,
        status=exc.status,
        title=exc.title,
        detail=_without_server_paths(request, " ".join(exc.message.split())),
        hint=exc.hint,
        headers=exc.http_headers() or None,
    )


def handle_validation(request: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    errors = _field_errors(exc.extra)
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    else:
        detail = exc.detail or "the request is not valid"
    return problem_response(
        request,
        status=exc.status_code,
        title="Invalid request",
        detail=detail,
        errors=errors or None,
    )


def handle_http_exception(request: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc.detail)
        detail = "the server failed to handle the request; see the server log"
    else:
        detail = exc.detail if exc.detail != _status_title(status) else ""
        if status == 404 and not detail:
            detail = f"nothing at {request.url.path}"
    return problem_response(
        request,
        status=status,
        title=_status_title(status),
        detail=detail,
        errors=_field_errors(exc.extra) or None,
        headers=dict(exc.headers) if exc.headers else None,
    )


def handle_unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request,
        status=500,
        title="Internal server error",
        detail="the server failed to handle the request; see the server log",
    )


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    SceneSparkError: handle_scenespark_error,
    ValidationException: handle_validation,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}

PROBLEM_RESPONSES_DOC = "Errors are RFC 9457 problem details (application/problem+json)."

_DESCRIPTIONS = {
    400: "Invalid input (malformed body, bad parameter, path or JSON too deep, or a Host header "
    "not in SCENESPARK_ALLOWED_HOSTS)",
    401: "SCENESPARK_API_TOKEN is set and the request carries no valid token or session",
    403: "A write from another web origin, or a path outside the library roots",
    404: "Unknown resource",
    409: "Conflicting state",
    413: "Body larger than allowed (JSON bodies, or SCENESPARK_MAX_UPLOAD_MB for uploads)",
    415: "Unsupported body type (send application/json)",
    416: "Range not satisfiable",
    422: "Well-formed but impossible request, or unreadable media",
    429: "The job queue is full; retry after the Retry-After seconds",
    503: "A model or the store is unavailable",
    507: "The upload quota (SCENESPARK_UPLOAD_QUOTA_MB) is used up",
}


def problem_description(status: int) -> str:
    return _DESCRIPTIONS.get(status, _status_title(status))


def problem_docs(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI ``responses`` for a handler: the problem+json bodies it may answer with."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=problem_description(status),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }
