"""The indexer end to end on generated media, with the real models and stores.

- what gets indexed: the spoken words, the on-screen text with its time span, the shot cuts,
  the visual frames;
- idempotence (unchanged file skipped) and per-modality rebuild;
- the `scenespark index` CLI: one-line messages and exit codes for bad input, nothing indexed
  is harmed;
- crash safety: SIGKILL in the middle of a re-index leaves the previous index searchable, and a
  rerun finishes the job;
- the same indexing + search through a real Chroma server (`chroma run`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scenespark.config import Settings, load_settings
from scenespark.engine import Engine
from scenespark.search.engine import SearchEngine
from scenespark.types import Modality, SearchRequest
from tests.helpers import chroma_server

pytestmark = pytest.mark.slow

SCENESPARK = Path(sys.executable).with_name("scenespark")


@pytest.fixture(scope="module")
def ix_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("indexer") / "home"


@pytest.fixture(scope="module")
def ix_library(tmp_path_factory: pytest.TempPathFactory, sample_video) -> Path:
    """A folder holding only the sample video (no sidecar subtitles)."""
    folder = tmp_path_factory.mktemp("library")
    shutil.copyfile(sample_video.path, folder / "garden.mp4")
    return folder


@pytest.fixture(scope="module")
def ix_engine(ix_home: Path) -> Engine:
    return Engine(load_settings(home=ix_home))


@pytest.fixture(scope="module")
def ix_indexed(ix_engine: Engine, ix_library: Path):
    from indexer.service import IndexService

    outcome = IndexService(ix_engine).index_file(ix_library / "garden.mp4")
    assert outcome.action == "indexed", outcome.message
    return outcome


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SCENESPARK_HOME"] = str(home)
    return env


def test_index_captures_speech_text_shots_and_frames(ix_engine, ix_indexed, sample_video) -> None:
    truth = sample_video.truth
    catalog = ix_engine.catalog
    video = catalog.get_video(ix_indexed.video_id)
    assert video is not None and video.status == "ready"
    speech = " ".join(s.text.lower() for s in catalog.segments(video.video_id, [Modality.SPEECH]))
    for word in ("garden", "tomatoes", "basil"):
        assert word in speech
    ocr = catalog.segments(video.video_id, [Modality.OCR])
    window = truth.texts[0]
    sale = [s for s in ocr if "SPRING SALE" in s.text.upper()]
    assert sale, [s.text for s in ocr]
    assert abs(sale[0].start_s - window.start_s) <= 1.0
    assert abs(sale[0].end_s - window.end_s) <= 1.0
    cuts = [s.start_s for s in video.shots if s.start_s > 0]
    assert len(cuts) == len(truth.cuts_s)
    for expected, found in zip(truth.cuts_s, cuts, strict=True):
        assert abs(expected - found) <= 0.5
    visual = catalog.segments(video.video_id, [Modality.VISUAL])
    # one keyframe per shot at least, at most one frame per 2 s interval (+ keyframes)
    assert len(video.shots) <= len(visual) <= truth.duration_s / 2 + len(video.shots)
    assert all((ix_engine.settings.home / s.thumbnail).is_file() for s in visual)
    assert ix_indexed.counts == {
        m: catalog.count_segments(video.video_id)[m] for m in ix_indexed.counts
    }


def test_search_finds_speech_and_on_screen_text(ix_engine, ix_indexed) -> None:
    searcher = SearchEngine(ix_engine)
    spoken = searcher.search(SearchRequest(query="planting tomatoes"))
    assert spoken.results and spoken.results[0].modality_scores.get("speech", 0) > 0
    assert spoken.results[0].start_s < 6.0
    written = searcher.search(SearchRequest(query="SPRING SALE 42"))
    assert written.results and 9.0 <= written.results[0].start_s <= 11.0
    nothing = searcher.search(SearchRequest(query="a submarine diving under arctic ice"))
    assert nothing.results == []


def test_search_cli_table_json_and_filters(ix_home, ix_indexed) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCENESPARK), "search", *args],
            env=_env(ix_home),
            capture_output=True,
            text=True,
            timeout=300,
        )

    table = cli("planting tomatoes", "--top-k", "3")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert re.match(r"^\d+ match(es)? for 'planting tomatoes' \(\d+ ms; ", lines[0]), lines[0]
    assert re.match(r"^ 1\. 00:00:0\d\.\d-00:00:\d\d\.\d  score 0\.\d\d \(", lines[1]), lines[1]
    assert any(line.strip().startswith("said:") and "tomatoes" in line for line in lines)
    as_json = cli("planting tomatoes", "--top-k", "1", "--json")
    response = json.loads(as_json.stdout)
    assert len(response["results"]) == 1
    hit = response["results"][0]
    assert hit["video_id"] == ix_indexed.video_id and hit["start_s"] < 6.0
    assert "tomatoes" in hit["evidence"]["transcript"].lower() and hit["modality_scores"]
    only_ocr = json.loads(cli("SPRING SALE", "--json", "--modality", "ocr").stdout)
    assert only_ocr["results"] and all(
        set(h["modality_scores"]) == {"ocr"} for h in only_ocr["results"]
    )
    other = cli("planting tomatoes", "--video", "0000000000000000")
    assert other.returncode != 0 and len(other.stderr.strip().splitlines()) == 1, other.stderr
    assert "Traceback" not in other.stderr


def test_a_video_named_for_part_of_the_topic_counts_when_search_found_the_topic_in_it(
    ix_engine, ix_indexed
) -> None:
    """ "the garden party" and "garden.mp4": the whole video is the topic's material only when
    search also found the topic in it above the cut-off (the laptop launch and its video)."""
    from scenespark.highlights.service import HighlightService

    service = HighlightService(ix_engine)
    vid = ix_indexed.video_id
    assert service._titled_videos("the garden party", None, {vid}) == [vid]
    assert service._titled_videos("the garden party", None, set()) == []
    assert service._titled_videos("the street party", None, {vid}) == []


def test_highlight_draws_on_a_video_whose_title_names_the_topic(ix_engine, ix_indexed) -> None:
    """ "garden.mp4": a reel "of the garden" may use any of its shots, after the real matches."""
    from scenespark.highlights.candidates import BoundaryIndex
    from scenespark.highlights.planner import plan_highlight
    from scenespark.highlights.service import HighlightService
    from scenespark.types import HighlightRequest

    service = HighlightService(ix_engine)
    request = HighlightRequest(prompt="a 14-second highlight of the garden", min_clip_s=1.0)
    candidates = service._candidates(request)
    titled = [c for c in candidates if c.origin == "title"]
    video = ix_engine.catalog.get_video(ix_indexed.video_id)
    assert len(titled) == len(video.shots)
    searched = [c for c in candidates if c.origin == "search"]
    assert searched and max(c.score for c in titled) < max(c.score for c in searched)
    speech = ix_engine.catalog.segments(video.video_id, [Modality.SPEECH])
    bounds = {
        video.video_id: BoundaryIndex.build(video.video_id, video.duration_s, speech, video.shots)
    }
    plan = plan_highlight(request, candidates, bounds)
    assert 12.6 - 1e-3 <= plan.duration_s <= 15.4 + 1e-3, plan
    assert any("title names the topic" in clip.reason for clip in plan.clips)
    other = service._candidates(HighlightRequest(prompt="a 14-second highlight of the tomatoes"))
    assert other and all(c.origin == "search" for c in other)


def test_unchanged_file_is_skipped_and_rebuild_redoes_one_modality(
    ix_engine, ix_indexed, ix_library
) -> None:
    from indexer.service import IndexService

    service = IndexService(ix_engine)
    again = service.index_file(ix_library / "garden.mp4")
    assert again.action == "skipped" and "unchanged" in again.message
    before = ix_engine.catalog.active_runs()
    [outcome] = service.rebuild([ix_indexed.video_id], [Modality.OCR])
    assert outcome.action == "reindexed"
    after = ix_engine.catalog.active_runs()
    key = lambda m: (ix_indexed.video_id, m)  # noqa: E731
    assert after[key("ocr")] != before[key("ocr")]
    assert after[key("speech")] == before[key("speech")]
    assert after[key("visual")] == before[key("visual")]
    # nothing is stale: the superseded OCR vectors were deleted
    assert ix_engine.catalog.stale_runs(older_than_s=0.0) == []


def test_cli_bad_inputs_get_one_line_each(
    tmp_path: Path,
    audio_only: Path,
    corrupt_video: Path,
    empty_file: Path,
    short_video: Path,
    unicode_name_video: Path,
) -> None:
    home = tmp_path / "home"
    empty_dir = tmp_path / "no videos here"
    empty_dir.mkdir()
    (empty_dir / "notes.txt").write_text("not a video")
    loop_dir = tmp_path / "loop"
    loop_dir.mkdir()
    shutil.copyfile(short_video, loop_dir / "tiny clip.mp4")
    (loop_dir / "again").symlink_to(loop_dir, target_is_directory=True)
    bad = [tmp_path / "missing.mp4", empty_dir, corrupt_video, empty_file, audio_only]
    good = [unicode_name_video, loop_dir]  # the unicode one is a copy of silent_video (no audio)
    proc = subprocess.run(
        [str(SCENESPARK), "index", "add", "--recursive", *map(str, bad + good)],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("scenespark:")]
    for path in bad:
        assert any(path.name in line for line in errors), (path, errors)
    # the good ones (no audio + unicode name, a 0.5 s video behind a symlink loop) are indexed
    status = subprocess.run(
        [str(SCENESPARK), "index", "status", "--json"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert status.returncode == 0, status.stderr
    import json

    videos = json.loads(status.stdout)["videos"]
    names = {Path(v["path"]).name for v in videos if v["status"] == "ready"}
    assert {"vidéo de test ü.mp4", "tiny clip.mp4"} <= names
    silent = next(v for v in videos if Path(v["path"]).name == "vidéo de test ü.mp4")
    assert not silent["has_audio"] and silent["counts"].get("speech", 0) == 0


def test_cli_refuses_a_second_writer(tmp_path: Path, silent_video: Path) -> None:
    from scenespark.jobs.writer_lock import WriterLock

    settings = load_settings(home=tmp_path / "home")
    with WriterLock(settings, role="test"):
        proc = subprocess.run(
            [str(SCENESPARK), "index", "add", str(silent_video)],
            env=_env(settings.home),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and "another SceneSpark process" in lines[0]


def test_sigkill_mid_index_keeps_the_previous_index(tmp_path: Path, sample_video) -> None:
    home = tmp_path / "home"
    video = tmp_path / "garden.mp4"
    shutil.copyfile(sample_video.path, video)
    first = subprocess.run(
        [str(SCENESPARK), "index", "add", str(video)],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr
    settings = load_settings(home=home)
    engine = Engine(settings)
    runs_before = engine.catalog.active_runs()
    assert SearchEngine(engine).search(SearchRequest(query="tomatoes")).results
    engine.close()

    # re-index with --force and kill the process while it writes vectors
    proc = subprocess.Popen(
        [str(SCENESPARK), "index", "add", "--force", str(video)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for line in proc.stdout:
        if "embedding and storing" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    engine = Engine(load_settings(home=home))
    assert engine.catalog.active_runs() == runs_before  # nothing half-committed
    hits = SearchEngine(engine).search(SearchRequest(query="tomatoes")).results
    assert hits and hits[0].start_s < 6.0
    engine.close()

    rerun = subprocess.run(
        [str(SCENESPARK), "index", "add", "--force", str(video)],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    engine = Engine(load_settings(home=home))
    assert engine.catalog.active_runs() != runs_before
    assert engine.catalog.stale_runs(older_than_s=0.0) == []  # orphans of the killed run purged
    assert SearchEngine(engine).search(SearchRequest(query="tomatoes")).results
    engine.close()


def test_index_and_search_through_a_chroma_server(tmp_path: Path, ix_library: Path) -> None:
    from indexer.service import IndexService

    with chroma_server(tmp_path / "chroma-server", tmp_path / "chroma.log") as (server, url):
        settings: Settings = load_settings(home=tmp_path / "home", chroma_url=url)
        engine = _engine_when_up(settings, server)
        outcome = IndexService(engine).index_file(ix_library / "garden.mp4")
        assert outcome.action == "indexed", outcome.message
        assert not (settings.home / "chroma").exists()  # vectors live in the server
        hits = SearchEngine(engine).search(SearchRequest(query="tomatoes")).results
        assert hits and hits[0].start_s < 6.0
        engine.close()


def _engine_when_up(settings: Settings, server: subprocess.Popen) -> Engine:
    from scenespark.errors import StoreError

    deadline = time.monotonic() + 60
    while True:
        engine = Engine(settings)
        try:
            engine.vectors.spaces()
            return engine
        except StoreError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.3)


def test_explicit_clips_render_exactly_as_given(ix_engine, ix_indexed) -> None:
    """A transcript re-cut: the spans are cut where asked, in the order asked, no planner."""
    from scenespark.highlights.service import HighlightService
    from scenespark.types import ClipSpan, HighlightRequest

    vid = ix_indexed.video_id
    spans = [
        ClipSpan(video_id=vid, start_s=8.0, end_s=10.5),
        ClipSpan(video_id=vid, start_s=1.0, end_s=3.0),
    ]
    result = HighlightService(ix_engine).run(HighlightRequest(prompt="re-cut", clips=spans))
    assert result.planner == "explicit"
    assert [(c.start_s, c.end_s) for c in result.clips] == [(8.0, 10.5), (1.0, 3.0)]
    assert result.clips[1].title  # labelled from the narration it holds
    assert result.duration_s == pytest.approx(4.5, abs=0.15)
    assert result.reel_path and result.srt_path


def test_a_two_part_prompt_covers_both_parts_through_the_service(ix_engine, ix_indexed) -> None:
    """ "the tomatoes and the spring sale": one part is spoken, the other on screen; search runs
    per part, candidates remember which part found them, and the reel holds both."""
    from scenespark.highlights.candidates import BoundaryIndex
    from scenespark.highlights.planner import PlannerParams, plan_highlight
    from scenespark.highlights.service import HighlightService
    from scenespark.types import HighlightRequest

    request = HighlightRequest(
        prompt="a 10-second highlight of the tomatoes and the spring sale", min_clip_s=1.0
    )
    candidates = HighlightService(ix_engine)._candidates(request)
    found = {f for c in candidates for f in c.facets}
    assert found == {"tomatoes", "spring sale"}, [(c.start_s, c.facets) for c in candidates]
    video = ix_engine.catalog.get_video(ix_indexed.video_id)
    speech = ix_engine.catalog.segments(video.video_id, [Modality.SPEECH])
    bounds = {
        video.video_id: BoundaryIndex.build(video.video_id, video.duration_s, speech, video.shots)
    }
    params = PlannerParams(facet_min_score=ix_engine.settings.search_min_score)
    plan = plan_highlight(request, candidates, bounds, params=params)
    assert plan.target_duration_s == 10.0
    assert [(f.facet, f.covered) for f in plan.facets] == [
        ("tomatoes", True),
        ("spring sale", True),
    ], plan.warnings
