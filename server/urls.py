"""Every URL the server hands out is made here, from the data the core returns.

The core (``scenespark``) and the indexer know data-dir-relative paths and video ids, never HTTP:
a search hit carries its thumbnail's relative path, a highlight result the relative paths of the
reel, subtitles and edit lists. The server (HTTP responses and the ``scenespark`` commands' JSON)
fills the matching ``*_url`` fields with this module's functions, which are idempotent.
"""

from __future__ import annotations

from typing import Any

from scenespark.types import HighlightResult, Hit, SearchResponse

MEDIA_FILES_PREFIX = "/media/files/"
MEDIA_VIDEOS_PREFIX = "/media/videos/"

# (path field, url field) of a highlight result's output files
RESULT_FILES: tuple[tuple[str, str], ...] = (
    ("reel_path", "reel_url"),
    ("srt_path", "srt_url"),
    ("edl_path", "edl_url"),
    ("fcp7_xml_path", "fcp7_xml_url"),
    ("otio_path", "otio_url"),
)


def media_url(relpath: str) -> str:
    """URL of a generated file, from its path relative to the data dir ("" for no file)."""
    return f"{MEDIA_FILES_PREFIX}{relpath}" if relpath else ""


def video_url(video_id: str) -> str:
    """URL that streams the source video (HTTP ranges)."""
    return f"{MEDIA_VIDEOS_PREFIX}{video_id}"


def span_url(video_id: str, start_s: float, end_s: float) -> str:
    """The source video with a media fragment for the span (``#t=start,end``)."""
    return f"{video_url(video_id)}#t={start_s:.2f},{end_s:.2f}"


def hit_with_urls(hit: Hit) -> Hit:
    return hit.model_copy(
        update={
            "thumbnail_url": hit.thumbnail_url or media_url(hit.thumbnail),
            "clip_url": hit.clip_url or span_url(hit.video_id, hit.start_s, hit.end_s),
        }
    )


def search_with_urls(response: SearchResponse) -> SearchResponse:
    """The response with the URLs of every hit (flat results and grouped by video)."""
    update: dict[str, Any] = {"results": [hit_with_urls(hit) for hit in response.results]}
    if response.videos is not None:
        update["videos"] = [
            group.model_copy(update={"spans": [hit_with_urls(hit) for hit in group.spans]})
            for group in response.videos
        ]
    return response.model_copy(update=update)


def result_with_urls(result: HighlightResult) -> HighlightResult:
    """The result with the URLs of its files and of each clip (and its thumbnail)."""
    update: dict[str, Any] = {
        url_field: media_url(getattr(result, path_field))
        for path_field, url_field in RESULT_FILES
        if getattr(result, path_field) and not getattr(result, url_field)
    }
    update["clips"] = [
        clip.model_copy(
            update={
                "url": clip.url or media_url(clip.path),
                "thumbnail_url": clip.thumbnail_url or media_url(clip.thumbnail),
            }
        )
        for clip in result.clips
    ]
    return result.model_copy(update=update)
