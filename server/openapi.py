"""OpenAPI config that works offline.

Litestar's Swagger/ReDoc pages load their JavaScript from a CDN and stay blank without network.
``/schema`` is instead a small server-rendered page listing every operation (no scripts), and
``/schema/openapi.json`` / ``/schema/openapi.yaml`` carry the full schema.
"""

from __future__ import annotations

import html
from typing import Any

import msgspec
import yaml
from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Tag
from litestar.serialization import get_serializer
from pydantic import BaseModel

from server.openapi_reality import document_reality
from server.problems import PROBLEM_RESPONSES_DOC

_METHODS = ("get", "post", "put", "patch", "delete")
_STYLE = """<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code{background:#f3f3f3;padding:0 .3em;border-radius:3px}
table{border-collapse:collapse;width:100%}td{padding:.35rem .5rem;border-top:1px solid #ddd;
vertical-align:top}td.m{font-weight:600;font-family:monospace;width:5rem}
td.p{font-family:monospace;white-space:nowrap}
</style>"""


class OfflineDocsPlugin(OpenAPIRenderPlugin):
    """A plain HTML index of the API, rendered on the server from the schema."""

    def __init__(self, *, path: str | list[str] = "/", **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        info = openapi_schema.get("info", {})
        title = html.escape(str(info.get("title", "API")))
        rows: list[str] = []
        for route, item in sorted(openapi_schema.get("paths", {}).items()):
            for method in _METHODS:
                operation = item.get(method)
                if not operation:
                    continue
                summary = html.escape(str(operation.get("summary") or ""))
                rows.append(
                    f"<tr><td class=m>{method.upper()}</td><td class=p>{html.escape(route)}</td>"
                    f"<td>{summary}</td></tr>"
                )
        json_url = html.escape(self.get_openapi_json_route(request))
        page = (
            f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
            f"{_STYLE}</head><body><h1>{title} <small>{html.escape(str(info.get('version', '')))}"
            f"</small></h1><p>{html.escape(str(info.get('description', '')))}</p>"
            f"<p>Machine-readable schema: <a href='{json_url}'><code>{json_url}</code></a> "
            f"(import it into any OpenAPI tool). {html.escape(PROBLEM_RESPONSES_DOC)}</p>"
            f"<table>{''.join(rows)}</table></body></html>"
        )
        return page.encode("utf-8")


def _request_models() -> list[type[BaseModel]]:
    from scenespark.types import HighlightRequest, SearchRequest
    from server.controllers.schemas import AddVideoRequest, ReplanRequest, SubtitleClipperRequest
    from server.controllers.session import SessionRequest

    return [
        SearchRequest,
        HighlightRequest,
        ReplanRequest,
        SubtitleClipperRequest,
        SessionRequest,
        AddVideoRequest,
    ]


class _RealityMixin:
    """Renders the document corrected by ``document_reality`` (computed once, then cached)."""

    _corrected: dict[str, Any] | None = None

    def corrected(self, request: Request, openapi_schema: dict[str, Any]) -> dict[str, Any]:
        if self._corrected is None:
            plain = msgspec.to_builtins(
                openapi_schema,
                enc_hook=get_serializer(request.route_handler.resolve_type_encoders()),
            )
            self._corrected = document_reality(plain, _request_models())
        return self._corrected


class RealJsonRenderPlugin(_RealityMixin, JsonRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, self.corrected(request, openapi_schema))


class RealYamlRenderPlugin(_RealityMixin, YamlRenderPlugin):
    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        document = self.corrected(request, openapi_schema)
        return yaml.dump(document, default_flow_style=False).encode("utf-8")


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="SceneSpark",
        version=version,
        description="Self-hosted semantic video search and prompt-driven highlights. "
        "Long operations (indexing, highlights) return 202 with a job to poll.",
        path="/schema",
        render_plugins=[OfflineDocsPlugin(), RealJsonRenderPlugin(), RealYamlRenderPlugin()],
        use_handler_docstrings=True,
        tags=[
            Tag(name="search", description="find moments in the library"),
            Tag(name="videos", description="add, list and remove indexed videos"),
            Tag(name="highlights", description="prompt-driven highlight reels"),
            Tag(name="jobs", description="background jobs: indexing and highlights"),
            Tag(name="media", description="thumbnails, clips, reels and source videos"),
            Tag(name="compatibility", description="the original SceneSpark clipper API"),
            Tag(name="system", description="health and models"),
        ],
    )
