"""Prompt → reel: retrieve candidates, plan (LLM or deterministic), solve, snap, render.

The candidates of every request are kept beside its outputs (``candidates.json``), so a job can
be re-planned with another duration or with clips locked/excluded without searching again.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from scenespark.engine import Engine
from scenespark.errors import InvalidInputError, NotFoundError
from scenespark.highlights.candidates import BoundaryIndex, Candidate, candidates_from_hits
from scenespark.highlights.explicit import plan_from_spans
from scenespark.highlights.facets import prompt_facets, topic_facets
from scenespark.highlights.llm import LLMPlanner
from scenespark.highlights.planner import PlannerParams, plan_highlight
from scenespark.highlights.prompt_parse import require_material
from scenespark.jobs.progress import (
    ProgressFn,
    StopCheck,
    check_stop,
    no_progress,
    run_stoppable,
)
from scenespark.language.tokenize import tokenize
from scenespark.search.engine import SearchEngine
from scenespark.types import (
    HighlightJob,
    HighlightRequest,
    HighlightResult,
    Hit,
    Modality,
    SearchRequest,
    Segment,
    Video,
)

CANDIDATES_FILE = "candidates.json"
CANDIDATE_POOL = 40
# A reel is asked to show *something*: candidates may sit well below the search threshold; the
# planner keeps only those close to the best one (relative cut-off) and warns when all are weak.
CANDIDATE_FLOOR = 0.15
# Shots offered for a whole video (its title names the topic, or the user chose it and nothing
# in it matched): below any real match, so the solver uses them only to fill the budget.
SHOT_SCORE_SPEECH = 0.5
SHOT_SCORE_SILENT = 0.4
SHOT_CANDIDATES_PER_VIDEO = 200


class HighlightService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def run_job(
        self, job: HighlightJob, report: ProgressFn, *, should_stop: StopCheck | None = None
    ) -> HighlightResult:
        params = dict(job.params)
        parent = params.pop("parent_request_id", None)
        request = HighlightRequest.model_validate(params)
        return self.run(
            request,
            report,
            request_id=job.request_id,
            parent_request_id=parent,
            should_stop=should_stop,
        )

    def run(
        self,
        request: HighlightRequest,
        report: ProgressFn = no_progress,
        *,
        request_id: str | None = None,
        parent_request_id: str | None = None,
        should_stop: StopCheck | None = None,
    ) -> HighlightResult:
        """Find candidates, plan, render. ``should_stop`` is checked between the steps, while
        the planner waits (an LLM call is abandoned at once) and before each clip renders."""
        from scenespark.render.reel import render_highlight

        request_id = request_id or uuid.uuid4().hex
        settings = self.engine.settings
        out_dir = self.out_dir(request_id)
        report(0.02, "finding candidate moments")
        if request.clips:  # a re-cut by hand: the spans as given, no search and no planner
            candidates = []
        elif parent_request_id:
            candidates = self._load_candidates(parent_request_id)
        else:
            candidates = self._candidates(request)
        out_dir.mkdir(parents=True, exist_ok=True)
        _save_candidates(out_dir / CANDIDATES_FILE, candidates)
        videos = self._videos(
            {c.video_id for c in candidates} | {s.video_id for s in request.clips or []}
        )
        speech = {vid: self.engine.catalog.segments(vid, [Modality.SPEECH]) for vid in videos}
        boundaries = {
            vid: BoundaryIndex.build(vid, video.duration_s, speech[vid], video.shots)
            for vid, video in videos.items()
        }
        report(0.15, "planning the reel")
        if request.clips:
            plan = plan_from_spans(request, videos, speech)
        else:
            plan = run_stoppable(
                lambda: plan_highlight(
                    request,
                    candidates,
                    boundaries,
                    llm=LLMPlanner.from_settings(settings),
                    params=PlannerParams(
                        min_score=settings.reel_min_score(),
                        grounded_below_floor=settings.highlight_min_score is None,
                        facet_min_score=settings.search_min_score,
                    ),
                    max_target_s=settings.max_reel_s,
                ),
                should_stop,
                name="planner",
            )
        check_stop(should_stop)
        result = HighlightResult(
            title=plan.title,
            description=plan.description,
            planner=plan.planner,
            target_duration_s=plan.target_duration_s,
            facets=list(plan.facets),
            warnings=list(plan.warnings),
        )
        if not plan.clips:
            result.warnings.append("nothing to render: no relevant moments were found")
            return result
        report(0.25, f"rendering {len(plan.clips)} clips")
        rendered = render_highlight(
            plan.clips,
            {vid: Path(video.path) for vid, video in videos.items()},
            out_dir,
            home=settings.home,
            speech=speech,
            crossfade_s=request.crossfade_s,
            stream_copy=request.stream_copy,
            thumbnail_max_side=settings.thumbnail_max_side,
            title=plan.title,
            timeout_s=settings.render_timeout_s,
            on_progress=lambda f, m: report(0.25 + 0.75 * f, m),
            should_stop=should_stop,
        )
        for clip, thumb in zip(rendered.clips, rendered.thumbnails, strict=False):
            clip.thumbnail = thumb
        result.clips = rendered.clips
        result.duration_s = rendered.reel_duration_s
        result.reel_path, result.srt_path, result.edl_path = (
            rendered.reel_path,
            rendered.srt_path,
            rendered.edl_path,
        )
        result.fcp7_xml_path, result.otio_path = rendered.fcp7_xml_path, rendered.otio_path
        result.warnings.extend(rendered.warnings)
        report(1.0, "done")
        return result

    def out_dir(self, request_id: str) -> Path:
        if not request_id.replace("-", "").isalnum():
            raise InvalidInputError(f"bad request id {request_id!r}")
        return self.engine.settings.media_dir / "highlights" / request_id

    # --- candidates ----------------------------------------------------------------------
    def _candidates(self, request: HighlightRequest) -> list[Candidate]:
        parsed = require_material(request)
        searcher = SearchEngine(self.engine)  # it refuses unknown video ids (NotFoundError)
        hits: dict[tuple[str, float, float], Hit] = {}
        found_by: dict[tuple[str, float, float], dict[str, float]] = {}  # hit → facet → score
        facets = prompt_facets(parsed.topic)
        for query in topic_facets(parsed.topic):
            response = searcher.search(
                SearchRequest(
                    query=query,
                    top_k=CANDIDATE_POOL,
                    video_ids=request.video_ids,
                    min_score=CANDIDATE_FLOOR,
                )
            )
            for hit in response.results:
                key = (hit.video_id, hit.start_s, hit.end_s)
                if key not in hits or hits[key].score < hit.score:
                    hits[key] = hit
                if query in facets:
                    scores = found_by.setdefault(key, {})
                    scores[query] = max(scores.get(query, 0.0), hit.score)
        ranked = sorted(hits.values(), key=lambda h: (-h.score, h.video_id, h.start_s))
        candidates = candidates_from_hits(ranked[:CANDIDATE_POOL])
        for c in candidates:
            for key, found in found_by.items():
                if key[0] == c.video_id and _mostly_inside(key[1], key[2], c.start_s, c.end_s):
                    c.facets.extend(f for f in found if f not in c.facets)
                    for facet, score in found.items():
                        c.facet_scores[facet] = max(c.facet_scores.get(facet, 0.0), score)
        cut_off = self.engine.settings.search_min_score
        strong = {h.video_id for h in hits.values() if h.score >= cut_off}
        titled = self._titled_videos(parsed.topic, request.video_ids, strong)
        candidates += self._shot_candidates(titled, "title", first_id=len(candidates) + 1)
        floor_on = self.engine.settings.reel_min_score() > 0
        if request.video_ids and not parsed.names_topic:
            # "the most important moments" of chosen videos: their shots are the material, the
            # search hits (if any) first
            candidates += self._shot_candidates(
                request.video_ids, "video", first_id=len(candidates) + 1
            )
        elif not candidates and request.video_ids and (parsed.wants_everything or not floor_on):
            # the chosen videos are the material, matched or not: always for "everything in
            # these videos", otherwise only with the floor off (SCENESPARK_HIGHLIGHT_MIN_SCORE=0)
            candidates = self._shot_candidates(request.video_ids, "video")
        return candidates

    def _titled_videos(
        self, topic: str, video_ids: list[str] | None, strong: set[str] | None = None
    ) -> list[str]:
        """Videos about the whole topic, by their name: the title (or file name) holds every
        word of the topic ("the product launch" → "product_launch_2024.mp4"), or holds one of
        them and search found the topic in the video above its cut-off (``strong``: "the laptop
        launch" → "product_launch.mp4" whose intro announces the laptop). Their shots are
        relevant material by the title, ranked below the real matches."""
        words = set(tokenize(topic))
        strong = strong or set()
        if not words:
            return []
        catalog = self.engine.catalog
        videos = (
            [v for v in (catalog.get_video(i) for i in video_ids) if v is not None]
            if video_ids
            else catalog.list_videos()
        )
        out = []
        for video in videos:
            named = set(tokenize(video.title)) | set(tokenize(Path(video.path).stem))
            if words <= named or (video.video_id in strong and words & named):
                out.append(video.video_id)
        return out

    def _shot_candidates(
        self, video_ids: list[str], origin: str, first_id: int = 1
    ) -> list[Candidate]:
        """Every shot of the videos as a candidate (the ones with speech first): for videos the
        title says are about the topic, or that the user chose when nothing in them matched."""
        out: list[Candidate] = []
        for video_id in video_ids:
            video = self.engine.catalog.get_video(video_id)
            if video is None:
                continue
            speech = self.engine.catalog.segments(video_id, [Modality.SPEECH])
            for shot in video.shots[:SHOT_CANDIDATES_PER_VIDEO]:
                said = " ".join(s.text for s in speech if _overlaps(s, shot.start_s, shot.end_s))
                out.append(
                    Candidate(
                        candidate_id=f"c{first_id + len(out)}",
                        video_id=video_id,
                        video_title=video.title,
                        start_s=shot.start_s,
                        end_s=shot.end_s,
                        score=SHOT_SCORE_SPEECH if said else SHOT_SCORE_SILENT,
                        transcript=said[:400],
                        shot_ids=[shot.shot_id],
                        origin=origin,
                    )
                )
        return out

    def _load_candidates(self, parent_request_id: str) -> list[Candidate]:
        path = self.out_dir(parent_request_id) / CANDIDATES_FILE
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise NotFoundError(f"no stored candidates for request {parent_request_id!r}") from exc
        return [Candidate.model_validate(item) for item in data]

    def _videos(self, video_ids: set[str]) -> dict[str, Video]:
        videos = {}
        for video_id in sorted(video_ids):
            video = self.engine.catalog.get_video(video_id)
            if video is not None:
                videos[video_id] = video
        return videos


def _overlaps(segment: Segment, start_s: float, end_s: float) -> bool:
    return _overlaps_s(segment.start_s, segment.end_s, start_s, end_s)


def _mostly_inside(start_s: float, end_s: float, span_start_s: float, span_end_s: float) -> bool:
    """At least half of start_s..end_s lies inside the span."""
    inside = min(end_s, span_end_s) - max(start_s, span_start_s)
    return inside >= 0.5 * (end_s - start_s) and inside > 0


def _overlaps_s(a_start_s: float, a_end_s: float, b_start_s: float, b_end_s: float) -> bool:
    return min(a_end_s, b_end_s) - max(a_start_s, b_start_s) > 0


def _save_candidates(path: Path, candidates: list[Candidate]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([c.model_dump(mode="json") for c in candidates]))
    tmp.replace(path)
