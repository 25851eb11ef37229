"""Make the OpenAPI document say what the server really does.

Litestar's generated document drifts from the running server in ways a client (or schemathesis)
notices: request-body limits on optional fields are lost (``min_score >= 0``, ``video_ids`` at most
1,000), error bodies are documented as ``application/json`` and 204s as carrying JSON, and the
statuses the middleware answers with (400, 401, 403, 413, 415, 429) are missing. This module
rewrites the rendered document once:

* request-body components come from pydantic's own JSON schema (the models that validate them);
* every 4xx/5xx response is ``application/problem+json`` with the ``Problem`` schema, and a 204
  has no content;
* each operation lists the problem statuses its route can give;
* files under ``/media/`` are documented as the binary types they are served with (200 and 206).
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from server.media import FALLBACK_TYPE, SERVED_TYPES
from server.problems import PROBLEM_MEDIA_TYPE, problem_description

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
WRITE_METHODS = ("put", "post", "delete", "patch")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
OPEN_OPERATIONS = {
    ("get", "/api/v1/health"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
}
JOB_SUBMITTING_SUFFIXES = ("/api/v1/videos", "/api/v1/highlights", "/replan", "/subtitle_clipper")


def _pydantic_schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation", ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, sub)
    return schema


def _problem(status: int) -> dict[str, Any]:
    return {
        "description": problem_description(status),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_REF)}},
    }


def problem_statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The problem statuses an operation can answer with, beyond those its handler documents."""
    statuses = [400]  # the Host allow-list, every route
    if (method, path) not in OPEN_OPERATIONS:
        statuses.append(401)  # when SCENESPARK_API_TOKEN is set
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(400)
    if "{" in path:
        statuses.append(404)
    if method in WRITE_METHODS:
        statuses.append(403)  # another web origin
    if operation.get("requestBody"):
        statuses += [400, 413, 415]
    if method == "post" and path.endswith(JOB_SUBMITTING_SUFFIXES):
        statuses.append(429)  # the job queue is full
    return sorted(set(statuses))


def _fix_responses(responses: dict[str, Any]) -> None:
    for status, response in responses.items():
        code = int(status) if str(status).isdigit() else 0
        if code in (204, 304):
            response.pop("content", None)
        elif code >= 400:
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_REF)}}


def _file_responses(responses: dict[str, Any]) -> None:
    binary = {"schema": {"type": "string", "format": "binary"}}
    content = {media_type: dict(binary) for media_type in sorted({*SERVED_TYPES.values()})}
    content[FALLBACK_TYPE] = dict(binary)
    for status, description in (("200", "The whole file"), ("206", "The requested byte range")):
        responses[status] = {"description": description, "content": copy.deepcopy(content)}


def document_reality(
    document: dict[str, Any], request_models: list[type[BaseModel]]
) -> dict[str, Any]:
    """A corrected copy of a rendered OpenAPI document (see the module docstring)."""
    doc = copy.deepcopy(document)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in request_models:
        components[model.__name__] = _pydantic_schema(model, components)
    for path, item in doc.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            _fix_responses(responses)
            if path.startswith("/media/") and method == "get":
                _file_responses(responses)
            for status in problem_statuses(method, path, operation):
                responses.setdefault(str(status), _problem(status))
    return doc
