"""``POST /api/v1/search``: hybrid search over the library."""

from __future__ import annotations

from typing import ClassVar

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from scenespark.errors import InvalidInputError
from scenespark.search.engine import SearchEngine
from scenespark.types import SearchRequest, SearchResponse
from server.problems import problem_docs
from server.runtime import ServerRuntime
from server.urls import search_with_urls


class SearchController(Controller):
    path = "/api/v1/search"
    tags: ClassVar[list[str]] = ["search"]

    @post(
        status_code=200,
        sync_to_thread=True,
        summary="Search speech, on-screen text and visuals",
        responses=problem_docs(404, 503),
    )
    def search(
        self, data: JSONBody[SearchRequest], runtime: NamedDependency[ServerRuntime]
    ) -> SearchResponse:
        """Time spans of indexed videos that match the query, best first, with evidence.

        A query that matches nothing returns an empty ``results`` list rather than noise.
        """
        if not data.query.strip():
            raise InvalidInputError("the query is empty", hint="type what you are looking for")
        return search_with_urls(SearchEngine(runtime.engine).search(data))
