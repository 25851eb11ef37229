"""The direction of the code: URLs are made only in server/, the core stays free of HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

from scenespark.types import Clip, HighlightResult, Hit, SearchResponse, VideoHits
from server.urls import media_url, result_with_urls, search_with_urls, video_url

REPO = Path(__file__).resolve().parents[1]


def test_search_urls_are_filled_by_the_server() -> None:
    hit = Hit(video_id="v1", start_s=1.5, end_s=4.25, score=0.5, thumbnail="thumbs/v1/0001.jpg")
    bare = Hit(video_id="v2", start_s=0.0, end_s=2.0, score=0.4)
    response = SearchResponse(
        query="q",
        results=[hit, bare],
        videos=[VideoHits(video_id="v1", score=0.5, spans=[hit])],
    )
    filled = search_with_urls(response)
    first, second = filled.results
    assert first.thumbnail_url == "/media/files/thumbs/v1/0001.jpg"
    assert first.clip_url == "/media/videos/v1#t=1.50,4.25"
    assert second.thumbnail_url == "" and second.clip_url == "/media/videos/v2#t=0.00,2.00"
    assert filled.videos is not None and filled.videos[0].spans[0] == first
    assert response.results[0].thumbnail_url == ""  # the input is not modified
    assert search_with_urls(filled) == filled  # idempotent


def test_result_urls_are_filled_by_the_server() -> None:
    result = HighlightResult(
        clips=[
            Clip(
                clip_id="c1",
                video_id="v1",
                start_s=0.0,
                end_s=2.0,
                path="highlights/r1/clip_01.mp4",
                thumbnail="highlights/r1/clip_01.jpg",
            ),
            Clip(clip_id="c2", video_id="v1", start_s=3.0, end_s=5.0),
        ],
        reel_path="highlights/r1/reel.mp4",
        edl_path="highlights/r1/reel.edl",
    )
    filled = result_with_urls(result)
    assert filled.reel_url == "/media/files/highlights/r1/reel.mp4"
    assert filled.edl_url == "/media/files/highlights/r1/reel.edl"
    assert filled.srt_url == ""  # no file, no URL
    assert filled.clips[0].url == "/media/files/highlights/r1/clip_01.mp4"
    assert filled.clips[0].thumbnail_url == "/media/files/highlights/r1/clip_01.jpg"
    assert filled.clips[1].url == "" and filled.clips[1].thumbnail_url == ""
    assert result_with_urls(filled) == filled
    assert media_url("") == "" and video_url("abc") == "/media/videos/abc"


def test_only_the_server_writes_media_urls() -> None:
    """No string literal in scenespark/ or indexer/ starts a media route of the server."""
    offenders = []
    for package in ("scenespark", "indexer"):
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                text = node.value if isinstance(node, ast.Constant) else None
                if isinstance(text, str) and text.startswith("/media/"):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []
