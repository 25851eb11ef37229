"""Indexing videos into the stores: the orchestration behind ``scenespark index`` and the API.

A video's modalities are indexed as *runs*: vectors are written under a new run id, then the run
is committed in the catalog in one transaction, and only then are the superseded vectors
deleted. A crash at any point leaves the previous index searchable; a rerun finishes the job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from indexer import stages
from indexer.reembed import (
    adopt_multilingual_model,
    reembed_text_space,
    text_space_outdated,
    warm_calibration,
)
from indexer.signature import model_signatures
from indexer.vision_status import vision_frames_missing, vision_status
from scenespark.engine import Engine
from scenespark.errors import MediaError, NotFoundError, SceneSparkError
from scenespark.jobs.progress import KeyedProgressFn, ProgressFn, no_progress
from scenespark.media.probe import probe_media
from scenespark.store.vectors.records import segment_records
from scenespark.types import (
    ALL_MODALITIES,
    MediaInfo,
    Modality,
    Segment,
    Video,
    VideoStatus,
    utc_now,
)

log = logging.getLogger(__name__)

# share of a video's progress bar per stage (speech overlaps the frame scan)
_SCAN_SHARE = 0.8


class IndexOutcome(BaseModel):
    path: str
    video_id: str = ""
    action: Literal["indexed", "reindexed", "skipped", "failed", "removed"]
    message: str = ""
    duration_s: float = 0.0
    wall_s: float = 0.0
    counts: dict[str, int] = Field(default_factory=dict)
    stage_s: dict[str, float] = Field(default_factory=dict)
    modalities: list[str] = Field(default_factory=list)
    sources: dict[str, str] = Field(default_factory=dict)


@dataclass
class Extracted:
    """What the extraction stages produced for one video, for the writer (``_store``)."""

    segments: dict[Modality, list[Segment]]
    sources: dict[str, str]
    speech: stages.SpeechOutput | None  # its language is recorded on the video
    frames: stages.FramesOutput | None  # shots, CLIP vectors; None when not scanned
    stage_s: dict[str, float] = field(default_factory=dict)


Extract = Callable[[Engine, Video, list[Modality], MediaInfo, ProgressFn], Extracted]


def needs_frame_scan(video: Video, modalities: list[Modality]) -> bool:
    """The frame pass runs for OCR or visual evidence, and for shots not yet known."""
    return Modality.VISUAL in modalities or Modality.OCR in modalities or not video.shots


def extract_local(
    engine: Engine,
    video: Video,
    modalities: list[Modality],
    info: MediaInfo,
    progress: ProgressFn,
) -> Extracted:
    """probe → (speech ‖ frames), in this process (speech on a thread beside the scan)."""
    stage_s: dict[str, float] = {}
    need_frames = needs_frame_scan(video, modalities)
    frames_done = threading.Event()  # then Whisper may use the frame lane's core too
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech") as pool:
        speech_future: Future | None = None
        if Modality.SPEECH in modalities:
            speech_future = pool.submit(
                _timed, stages.speech_stage, engine, info, video.video_id, frames_done
            )
        frames = None
        try:
            if need_frames:
                t0 = time.perf_counter()
                frames = stages.frames_stage(
                    engine,
                    info,
                    video.video_id,
                    modalities,
                    lambda f, m: progress(_SCAN_SHARE * f, m),
                )
                stage_s["frames"] = round(time.perf_counter() - t0, 3)
        finally:
            frames_done.set()
        speech = None
        if speech_future is not None:
            progress(_SCAN_SHARE, "transcribing speech")
            speech, stage_s["speech"] = speech_future.result()
    segments, sources = collect_segments(engine, modalities, speech, frames)
    return Extracted(segments, sources, speech, frames, stage_s)


def collect_segments(
    engine: Engine,
    modalities: list[Modality],
    speech: stages.SpeechOutput | None,
    frames: stages.FramesOutput | None,
) -> tuple[dict[Modality, list[Segment]], dict[str, str]]:
    """The segments of each requested modality and where each came from."""
    segments: dict[Modality, list[Segment]] = {}
    sources: dict[str, str] = {}
    if speech is not None:
        segments[Modality.SPEECH] = speech.segments
        sources["speech"] = speech.source
    if frames is not None:
        if Modality.OCR in modalities:
            segments[Modality.OCR] = frames.ocr
            sources["ocr"] = model_signatures(engine)["ocr"]
        if Modality.VISUAL in modalities:
            segments[Modality.VISUAL] = frames.visual
            sources["visual"] = frames.visual_source
    return segments, sources


class IndexService:
    def __init__(self, engine: Engine, *, extract: Extract | None = None) -> None:
        """``extract`` runs the extraction stages of one video (default: in this process,
        :func:`extract_local`; ``indexer.distributed`` runs them on a Ray cluster). This
        service stays the one writer either way (``_store``)."""
        self.engine = engine
        self._extract = extract or extract_local
        self._video_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    # --- public API ----------------------------------------------------------------------
    def index_file(
        self,
        path: Path,
        *,
        force: bool = False,
        modalities: Sequence[Modality] | None = None,
        on_progress: ProgressFn | None = None,
    ) -> IndexOutcome:
        """Index one file; never raises for a bad file (the outcome says what went wrong)."""
        progress = on_progress or no_progress
        started = time.perf_counter()
        try:
            info = probe_media(Path(path))
        except SceneSparkError as exc:
            return IndexOutcome(path=str(path), action="failed", message=exc.one_line())
        video_id = info.video_id
        with self._lock_for(video_id):
            try:
                return self._index_probed(info, force, modalities, progress, started)
            except SceneSparkError as exc:
                self._mark_failed(video_id, exc.one_line())
                return IndexOutcome(
                    path=info.path, video_id=video_id, action="failed", message=exc.one_line()
                )

    def rebuild(
        self,
        video_ids: Sequence[str] | None = None,
        modalities: Sequence[Modality] | None = None,
        *,
        everything: bool = False,
        on_progress: KeyedProgressFn | None = None,
    ) -> list[IndexOutcome]:
        """Re-index stale modalities (model changed, failed) or the chosen ones."""
        catalog = self.engine.catalog
        # every id is checked before any work starts
        videos = (
            [catalog.require_video(v) for v in video_ids] if video_ids else catalog.list_videos()
        )
        if text_space_outdated(self.engine):  # another text model: re-embed the whole library
            reembed_text_space(self.engine, on_progress)
            videos = [catalog.get_video(v.video_id) or v for v in videos]
        outcomes = []
        for video in videos:
            chosen = (
                list(ALL_MODALITIES) if everything else (list(modalities) if modalities else None)
            )
            if chosen is None:
                chosen = self.stale_modalities(video)
            if not chosen:
                outcomes.append(
                    IndexOutcome(
                        path=video.path,
                        video_id=video.video_id,
                        action="skipped",
                        message="up to date",
                    )
                )
                continue
            reporter = _bind(on_progress, video.video_id)
            outcomes.append(self._reindex(video, chosen, reporter))
        self.purge_orphans()
        return outcomes

    def remove(self, video_id: str) -> None:
        """Remove a video: catalog rows, vectors (of every space, open or not) and thumbnails.

        The catalog keeps the run rows (superseded) until the vectors are gone, so a crash in
        between is finished by the next :meth:`purge_orphans`.
        """
        catalog = self.engine.catalog
        catalog.require_video(video_id)
        with self._lock_for(video_id):
            run_ids = catalog.delete_video(video_id)
            self._delete_vectors(run_ids)
            for run_id in run_ids:
                catalog.mark_run_purged(run_id)
            _remove_tree(self._thumbs_dir(video_id))

    def resolve_target(self, target: str) -> str:
        """A video id, or the path of an indexed file, to its video id."""
        catalog = self.engine.catalog
        if catalog.get_video(target) is not None:
            return target
        candidate = Path(target).expanduser()
        for key in {str(candidate.absolute()), str(candidate.resolve()), target}:
            video = catalog.find_video_by_path(key)
            if video is not None:
                return video.video_id
        raise NotFoundError(f"no indexed video with id or path {target!r}")

    def stale_modalities(self, video: Video) -> list[Modality]:
        current = model_signatures(self.engine)
        stale = []
        for modality in ALL_MODALITIES:
            if video.models.get(modality.value) != current.get(modality.value):
                stale.append(modality)
        if Modality.VISUAL not in stale and vision_frames_missing(self.engine, video.video_id):
            stale.append(Modality.VISUAL)  # frames a vision LLM left undescribed
        return stale

    def purge_orphans(self, older_than_s: float = 0.0) -> int:
        """Delete vectors of runs that are not active (crashed, failed or superseded)."""
        stale = self.engine.catalog.stale_runs(older_than_s=older_than_s)
        self._delete_vectors([run_id for _video, run_id in stale])
        for _video, run_id in stale:
            self.engine.catalog.mark_run_purged(run_id)
        for video_id in {video_id for video_id, _run in stale}:  # thumbnails of removed videos
            if self.engine.catalog.get_video(video_id) is None:
                _remove_tree(self._thumbs_dir(video_id))
        return len(stale)

    def _thumbs_dir(self, video_id: str) -> Path:
        return self.engine.settings.media_dir / "thumbs" / video_id

    def library_status(self) -> dict:
        catalog = self.engine.catalog
        videos = catalog.list_videos()
        return {
            "home": str(self.engine.settings.home),
            "store": self.engine.settings.chroma_url
            or f"embedded:{self.engine.settings.chroma_dir}",
            "videos": [v.model_dump(mode="json", exclude={"shots"}) for v in videos],
            "video_count": len(videos),
            "duration_s": round(sum(v.duration_s for v in videos), 2),
            "segments": catalog.count_segments(),
            "models": [m.model_dump(mode="json") for m in self.engine.models.describe()],
            "vision": vision_status(self.engine),
        }

    # --- internals -----------------------------------------------------------------------
    def _index_probed(
        self,
        info: MediaInfo,
        force: bool,
        modalities: Sequence[Modality] | None,
        progress: ProgressFn,
        started: float,
    ) -> IndexOutcome:
        catalog = self.engine.catalog
        video_id = info.video_id
        existing = catalog.get_video(video_id)
        previous_same_path = catalog.find_video_by_path(info.path)
        if existing is not None and existing.status == VideoStatus.READY and not force:
            chosen = list(modalities) if modalities else self.stale_modalities(existing)
            if not chosen:
                if existing.path != info.path:
                    existing.path = info.path
                    catalog.upsert_video(existing)
                return IndexOutcome(
                    path=info.path,
                    video_id=video_id,
                    action="skipped",
                    message="unchanged (same content hash and models)",
                    duration_s=info.duration_s,
                    counts=existing.counts,
                )
            outcome = self._reindex(existing, chosen, progress)
            return outcome
        video = existing or Video(video_id=video_id, path=info.path)
        video.path = info.path
        video.title = Path(info.path).stem
        video.duration_s = info.duration_s
        video.fps = info.fps
        video.width, video.height = info.width, info.height
        video.has_audio = info.has_audio
        video.content_sha256 = info.content_sha256
        video.size_bytes = info.size_bytes
        if existing is None or existing.status != VideoStatus.READY:
            video.status = VideoStatus.INDEXING
        video.error = ""
        catalog.upsert_video(video)
        outcome = self._run(video, list(modalities or ALL_MODALITIES), progress, started, info)
        if previous_same_path is not None and previous_same_path.video_id != video_id:
            self.remove(previous_same_path.video_id)
            outcome.action = "reindexed"
            replaced = f"the file changed; replaced {previous_same_path.video_id}"
            outcome.message = f"{replaced}; {outcome.message}" if outcome.message else replaced
        return outcome

    def _reindex(
        self, video: Video, modalities: list[Modality], progress: ProgressFn
    ) -> IndexOutcome:
        try:
            info = probe_media(Path(video.path))
        except MediaError as exc:
            return IndexOutcome(
                path=video.path, video_id=video.video_id, action="failed", message=exc.one_line()
            )
        if info.video_id != video.video_id:
            return IndexOutcome(
                path=video.path,
                video_id=video.video_id,
                action="failed",
                message="the file changed since it was indexed: run `index add` on it",
            )
        outcome = self._run(video, modalities, progress, time.perf_counter(), info)
        outcome.action = "reindexed"
        return outcome

    def _run(
        self,
        video: Video,
        modalities: list[Modality],
        progress: ProgressFn,
        started: float,
        info: MediaInfo,
    ) -> IndexOutcome:
        engine = self.engine
        # the vector store (chromadb + llama-index imports, client start: seconds in a fresh
        # process) opens beside the extraction rather than after it
        opening = threading.Thread(
            target=_open_vector_store, args=(engine,), name="open-vectors", daemon=True
        )
        opening.start()
        extracted = self._extract(engine, video, modalities, info, progress)
        opening.join()
        segments, sources, stage_s = extracted.segments, extracted.sources, extracted.stage_s
        speech, frames = extracted.speech, extracted.frames
        if frames is not None:
            video.shots = frames.shots
        for segs in segments.values():
            stages.assign_shots(segs, video.shots)
        t0 = time.perf_counter()
        progress(0.9, "embedding and storing")
        self._store(video, segments, frames)
        stage_s["embed_store"] = round(time.perf_counter() - t0, 3)
        video = engine.catalog.get_video(video.video_id) or video
        video.status = VideoStatus.READY
        video.error = ""
        video.indexed_at = utc_now()
        video.shots = frames.shots if frames is not None else video.shots
        if speech is not None:
            _record_speech_language(video, speech, engine.settings.speech_language_min_probability)
        signatures = model_signatures(engine)
        for modality in modalities:
            video.models[modality.value] = signatures[modality.value]
        thumbs = [s.thumbnail for s in segments.get(Modality.VISUAL, []) if s.thumbnail]
        if thumbs:
            video.thumbnail = thumbs[min(1, len(thumbs) - 1)]
        engine.catalog.upsert_video(video)
        progress(1.0, "done")
        return IndexOutcome(
            path=video.path,
            video_id=video.video_id,
            action="indexed",
            duration_s=video.duration_s,
            wall_s=round(time.perf_counter() - started, 3),
            counts={m.value: len(s) for m, s in segments.items()},
            stage_s=stage_s,
            modalities=[m.value for m in modalities],
            sources=sources,
            message=frames.captions.note() if frames is not None and frames.captions else "",
        )

    def _store(
        self,
        video: Video,
        segments: dict[Modality, list[Segment]],
        frames: stages.FramesOutput | None,
    ) -> None:
        engine = self.engine
        catalog = engine.catalog
        adopt_multilingual_model(
            engine,
            (s.text for m, segs in segments.items() if m != Modality.VISUAL for s in segs),
        )
        signatures = model_signatures(engine)
        text_space = engine.text_space()
        warm_calibration(engine)  # measured once per model and home, not at the first search
        clip_space = engine.clip_space() if Modality.VISUAL in segments else None
        superseded: list[str] = []
        for modality, segs in segments.items():
            run_id = catalog.begin_run(
                video.video_id, modality, {modality.value: signatures[modality.value]}
            )
            try:
                ids = [f"{run_id}:{i}" for i in range(len(segs))]
                if modality == Modality.VISUAL and clip_space is not None and frames is not None:
                    vectors = np.vstack(frames.clip_vectors) if frames.clip_vectors else None
                    space = clip_space
                else:
                    vectors = stages.embed_texts(engine, segs)
                    space = text_space
                if segs and vectors is not None:
                    engine.vectors.add(space, segment_records(ids, vectors, segs, run_id))
                old = catalog.commit_run(video.video_id, modality, run_id, segs)
            except BaseException as exc:
                catalog.fail_run(run_id, str(exc)[:500])
                raise
            if old:
                superseded.append(old)
        self._delete_vectors(superseded)
        for run_id in superseded:
            catalog.mark_run_purged(run_id)

    def _delete_vectors(self, run_ids: Sequence[str]) -> None:
        if not run_ids:
            return
        vectors = self.engine.vectors
        for space in vectors.spaces():
            vectors.open_stored_space(space)  # the CLI may not have loaded this space's model
            vectors.delete_runs(space, list(run_ids))

    def _mark_failed(self, video_id: str, message: str) -> None:
        video = self.engine.catalog.get_video(video_id)
        if video is None:
            return
        if self.engine.catalog.count_segments(video_id):
            video.error = message  # the previous index stays usable
            self.engine.catalog.upsert_video(video)
        else:
            self.engine.catalog.set_video_status(video_id, VideoStatus.FAILED, message)

    def _lock_for(self, video_id: str) -> threading.Lock:
        with self._guard:
            return self._video_locks.setdefault(video_id, threading.Lock())


def _open_vector_store(engine: Engine) -> None:
    """Open the engine's vector store; an error is left for the writer to meet and report."""
    try:
        _ = engine.vectors
    except Exception:  # re-raised by the writer's own access in _store
        log.debug("opening the vector store ahead of writing failed", exc_info=True)


def _timed(fn: Callable[..., object], *args: object) -> tuple[object, float]:
    t0 = time.perf_counter()
    result = fn(*args)
    return result, round(time.perf_counter() - t0, 3)


def _bind(callback: KeyedProgressFn | None, key: str) -> ProgressFn:
    if callback is None:
        return no_progress
    return lambda fraction, message: callback(key, fraction, message)


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _record_speech_language(
    video: Video, speech: stages.SpeechOutput, min_probability: float
) -> None:
    """The language of the video's speech as this run found it (flagged when uncertain)."""
    video.speech_language = speech.language
    video.speech_language_probability = speech.language_probability
    video.speech_language_source = speech.language_source
    video.speech_language_uncertain = bool(
        speech.language_source == "detected"
        and speech.language_probability is not None
        and speech.language_probability < min_probability
    )
