"""A reel from spans chosen by hand (the transcript re-cut): no search, no planner.

The spans are cut exactly where they say, in the order given; each clip is labelled from the
speech it holds, like a planned one. Spans past the end of their video are refused.
"""

from __future__ import annotations

from scenespark.errors import ValidationFailedError
from scenespark.highlights.candidates import Candidate, clip_id_for
from scenespark.highlights.labels import (
    description_for,
    reel_description,
    reel_title,
    tags_for,
    title_for,
)
from scenespark.highlights.planner import PlanResult
from scenespark.highlights.prompt_parse import parse_prompt
from scenespark.types import Clip, ClipSpan, HighlightRequest, Segment, Video

EXPLICIT = "explicit"
_END_SLACK_S = 0.5  # a cut padded past the last frame is clamped to it, not refused


def check_spans(spans: list[ClipSpan], videos: dict[str, Video]) -> None:
    """Every span inside its (known) video; raises ValidationFailedError otherwise."""
    for span in spans:
        video = videos.get(span.video_id)
        if video is None:
            raise ValidationFailedError(f"clip of unknown video {span.video_id!r}")
        if video.duration_s and span.end_s > video.duration_s + _END_SLACK_S:
            raise ValidationFailedError(
                f"clip {span.start_s:g}-{span.end_s:g} s ends after video {span.video_id!r} "
                f"({video.duration_s:g} s)"
            )


def plan_from_spans(
    request: HighlightRequest,
    videos: dict[str, Video],
    speech: dict[str, list[Segment]],
) -> PlanResult:
    """The clips of ``request.clips`` as a plan, labelled from the speech inside each."""
    spans = list(request.clips or [])
    check_spans(spans, videos)
    topic = parse_prompt(request.prompt).topic
    result = PlanResult(planner=EXPLICIT, topic=topic)
    for i, span in enumerate(spans, start=1):
        video = videos[span.video_id]
        end_s = min(span.end_s, video.duration_s) if video.duration_s else span.end_s
        said = " ".join(
            s.text
            for s in speech.get(span.video_id, [])
            if min(s.end_s, end_s) - max(s.start_s, span.start_s) > 0
        )
        c = Candidate(
            candidate_id=f"e{i}",
            video_id=span.video_id,
            video_title=video.title,
            start_s=span.start_s,
            end_s=end_s,
            score=1.0,
            transcript=said[:400],
            origin=EXPLICIT,
        )
        result.clips.append(
            Clip(
                clip_id=clip_id_for(span.video_id, span.start_s, end_s),
                video_id=span.video_id,
                start_s=round(span.start_s, 3),
                end_s=round(end_s, 3),
                tags=tags_for([c], topic),
                title=title_for(c),
                description=description_for(c, span.start_s, end_s),
                reason="chosen by hand",
                score=1.0,
            )
        )
    result.duration_s = round(sum(c.end_s - c.start_s for c in result.clips), 3)
    result.target_duration_s = result.duration_s
    result.title = reel_title(topic) if topic else "Re-cut"
    result.description = reel_description(
        topic, len(result.clips), result.duration_s, len({c.video_id for c in result.clips})
    )
    return result
