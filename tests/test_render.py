"""Rendering highlights with real ffmpeg on generated media, plus the pure edit-list logic."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image

from scenespark.errors import InvalidInputError, RenderError
from scenespark.media.subtitles import parse_subtitles
from scenespark.render.edit_lists import ReelEntry, reel_cues
from scenespark.render.reel import RenderOutput, render_highlight
from scenespark.render.timelines import edl_text, fcp7_xml_text, otio_text
from scenespark.types import Clip, Modality, Segment

FPS = 25
FRAME_S = 1 / FPS
EDL_EVENT = re.compile(
    r"^(\d{3})\s+AX\s+(\S+)\s+([CD])\s+(\d{3})?\s*"
    r"(\d\d:\d\d:\d\d:\d\d) (\d\d:\d\d:\d\d:\d\d) (\d\d:\d\d:\d\d:\d\d) (\d\d:\d\d:\d\d:\d\d)$"
)


def _run(args: list[str]) -> bytes:
    return subprocess.run(args, check=True, capture_output=True, timeout=120).stdout


def _make_video(path: Path, *, size: str, rate: int, seconds: int, audio_hz: int | None) -> Path:
    args = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={size}:rate={rate}",
    ]
    if audio_hz:
        args += ["-f", "lavfi", "-i", f"sine=frequency={audio_hz}:sample_rate=44100"]
    args += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", str(2 * rate)]
    args += ["-pix_fmt", "yuv420p"] + (["-c:a", "aac"] if audio_hz else []) + [str(path)]
    _run(args)
    return path


@pytest.fixture(scope="module")
def rj_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rj_sources")
    return {
        "a": _make_video(folder / "alpha.mp4", size="640x360", rate=25, seconds=30, audio_hz=440),
        "b": _make_video(folder / "bravo.mp4", size="320x240", rate=30, seconds=20, audio_hz=None),
        "c": _make_video(folder / "charlie.mp4", size="640x360", rate=25, seconds=12, audio_hz=660),
    }


def _speech() -> dict[str, list[Segment]]:
    def seg(start_s: float, end_s: float, text: str) -> Segment:
        return Segment(
            video_id="a", modality=Modality.SPEECH, start_s=start_s, end_s=end_s, text=text
        )

    return {
        "a": [
            seg(2.0, 4.0, "hello there"),
            seg(5.5, 7.0, "crossing the cut"),
            seg(13.0, 15.0, "second line"),
            seg(25.0, 27.0, "never shown"),
        ]
    }


CLIPS = [
    Clip(clip_id="c1", video_id="a", start_s=3.3, end_s=5.8),  # 62.5 frames → 63, off-frame start
    Clip(clip_id="c2", video_id="b", start_s=5.0, end_s=8.0),  # other size + fps, no audio
    Clip(clip_id="c3", video_id="a", start_s=12.04, end_s=16.16),
]
FRAMES = [63, 75, 103]  # whole frames at 25 fps


def _streams(path: Path) -> dict[str, dict[str, str]]:
    out = _run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,duration,width,height,r_frame_rate",
         "-of", "compact=p=0", str(path)]
    ).decode()  # fmt: skip
    streams: dict[str, dict[str, str]] = {}
    for line in out.strip().splitlines():
        fields = dict(item.split("=", 1) for item in line.split("|"))
        streams.setdefault(fields["codec_type"], fields)
    return streams


def _format_duration(path: Path) -> float:
    out = _run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)]
    )
    return float(out.decode().strip())


def _gray_frame(path: Path, time_s: float) -> np.ndarray:
    raw = _run(
        ["ffmpeg", "-v", "error", "-ss", f"{time_s:.4f}", "-i", str(path), "-frames:v", "1",
         "-vf", "scale=160:90,format=gray", "-f", "rawvideo", "-"]
    )  # fmt: skip
    return np.frombuffer(raw, dtype=np.uint8).astype(np.float32)


def _audio(path: Path) -> np.ndarray:
    raw = _run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", "8000",
                "-f", "s16le", "-"])  # fmt: skip
    return np.frombuffer(raw, dtype=np.int16).astype(np.float32)


def frames_to_timecode(frames: int, rate: int) -> str:
    """Non-drop-frame label of a frame count (OpenTimelineIO's, independent of the writer)."""
    return otio.opentime.to_timecode(otio.opentime.RationalTime(frames, rate), rate)


def _timeline_clips(path: Path, adapter: str) -> list[tuple[str, int, int, int]]:
    """(source file name, first source frame, record frame, length) of each video clip, as
    OpenTimelineIO reads the file back."""
    timeline = otio.adapters.read_from_file(str(path), adapter)
    video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
    out = []
    for clip in video.find_clips():
        source, record = clip.source_range, clip.range_in_parent()
        name = Path(otio.url_utils.filepath_from_url(clip.media_reference.target_url)).name
        out.append(
            (
                name,
                round(source.start_time.to_frames(FPS)),
                round(record.start_time.to_frames(FPS)),
                round(source.duration.to_frames(FPS)),
            )
        )
    return out


def _edl_events(text: str) -> list[tuple[str, ...]]:
    return [m.groups() for line in text.splitlines() if (m := EDL_EVENT.match(line))]


def _no_leftovers(out_dir: Path) -> None:
    hidden = [p.name for p in out_dir.iterdir() if p.name.startswith(".")]
    assert hidden == [], f"temporary files left behind: {hidden}"


@pytest.fixture(scope="module")
def rj_render(rj_sources: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("rj_home")
    out_dir = home / "media" / "highlights" / "h1"
    progress: list[tuple[float, str]] = []
    result = render_highlight(
        CLIPS,
        rj_sources,
        out_dir,
        home=home,
        speech=_speech(),
        on_progress=lambda f, m: progress.append((f, m)),
    )
    return result, home, out_dir, progress


@pytest.mark.slow
def test_clips_are_frame_accurate(rj_render, rj_sources) -> None:
    result, home, _, progress = rj_render
    assert isinstance(result, RenderOutput)
    assert (result.width, result.height, result.fps) == (640, 360, 25.0)
    for clip, frames in zip(result.clips, FRAMES, strict=True):
        path = home / clip.path
        assert path.is_file() and not Path(clip.path).is_absolute()
        streams = _streams(path)
        video_s, audio_s = float(streams["video"]["duration"]), float(streams["audio"]["duration"])
        assert abs(video_s - (clip.end_s - clip.start_s)) <= FRAME_S + 1e-6
        assert video_s == pytest.approx(frames * FRAME_S, abs=1e-3)
        assert abs(audio_s - video_s) <= FRAME_S / 2 + 0.025
        assert (streams["video"]["width"], streams["video"]["height"]) == ("640", "360")
        assert streams["video"]["r_frame_rate"] == "25/1"
    # The first frame of clip 1 is the first source frame at/after 3.3 s (3.32 s), not 3.28 s.
    first = _gray_frame(home / result.clips[0].path, 0.0)
    exact = np.abs(first - _gray_frame(rj_sources["a"], 3.32)).mean()
    early = np.abs(first - _gray_frame(rj_sources["a"], 3.28)).mean()
    late = np.abs(first - _gray_frame(rj_sources["a"], 3.36)).mean()
    assert exact < 3.0 and early > 2 * exact + 1 and late > 2 * exact + 1
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 5


@pytest.mark.slow
def test_reel_duration_clock_and_audio(rj_render) -> None:
    result, home, _, _ = rj_render
    reel = home / result.reel_path
    expected_s = sum(FRAMES) * FRAME_S
    assert result.reel_duration_s == pytest.approx(expected_s, abs=FRAME_S)
    streams = _streams(reel)
    assert float(streams["video"]["duration"]) == pytest.approx(expected_s, abs=1e-3)
    assert float(streams["audio"]["duration"]) == pytest.approx(expected_s, abs=0.03)
    starts = [c.reel_start_s for c in result.clips]
    assert starts == pytest.approx(
        [0.0, FRAMES[0] * FRAME_S, (FRAMES[0] + FRAMES[1]) * FRAME_S], abs=1e-3
    )
    # The source without audio is silent on the reel; the others carry their tone, in place.
    audio = _audio(reel)
    rate = 8000

    def rms(a_s: float, b_s: float) -> float:
        return float(np.sqrt(np.mean(audio[int(a_s * rate) : int(b_s * rate)] ** 2)))

    assert rms(0.1, starts[1] - 0.1) > 1000
    assert rms(starts[1] + 0.1, starts[2] - 0.1) < 50
    assert rms(starts[2] + 0.1, expected_s - 0.1) > 1000
    assert len(audio) / rate == pytest.approx(expected_s, abs=0.03)


@pytest.mark.slow
def test_reel_srt_is_retimed(rj_render) -> None:
    result, home, _, _ = rj_render
    cues = parse_subtitles(home / result.srt_path)
    r3 = (FRAMES[0] + FRAMES[1]) * FRAME_S
    clip1_end = FRAMES[0] * FRAME_S
    got = [(c.text, round(c.start_s, 2), round(c.end_s, 2)) for c in cues]
    assert got == [
        ("hello there", 0.0, 0.7),  # 2.0-4.0 cut to the clip start 3.3
        ("crossing the cut", round(5.5 - 3.3, 2), round(clip1_end, 2)),  # cut at the clip end
        ("second line", round(r3 + 13.0 - 12.04, 2), round(r3 + 15.0 - 12.04, 2)),
    ]


@pytest.mark.slow
def test_edl_events(rj_render) -> None:
    result, home, _, _ = rj_render
    text = (home / result.edl_path).read_text()
    assert text.startswith("TITLE: ") and "FCM: NON-DROP FRAME" in text
    events = _edl_events(text)
    assert [e[0] for e in events] == ["001", "002", "003"]
    assert [e[1] for e in events] == ["AA/V", "V", "AA/V"]
    src_in = [83, 125, 301]  # reel-rate (25 fps) frames; 3.3 s → frame 82.5 → 83
    rec = 0
    for event, first, frames in zip(events, src_in, FRAMES, strict=True):
        assert event[4:] == (
            frames_to_timecode(first, FPS),
            frames_to_timecode(first + frames, FPS),
            frames_to_timecode(rec, FPS),
            frames_to_timecode(rec + frames, FPS),
        )
        rec += frames
    names = re.findall(r"^\* FROM CLIP NAME:\s+(.+)$", text, flags=re.M)
    assert names == ["alpha.mp4", "bravo.mp4", "alpha.mp4"]


@pytest.mark.slow
@pytest.mark.parametrize("adapter,attr", [("fcp_xml", "fcp7_xml_path"), ("otio_json", "otio_path")])
def test_editor_timelines_reference_the_sources(rj_render, rj_sources, adapter, attr) -> None:
    """FCP7 XML and .otio, read back with OpenTimelineIO: one clip per reel clip, at the source
    frames and reel positions the EDL names, pointing at the source files."""
    result, home, _, _ = rj_render
    path = home / getattr(result, attr)
    assert path.suffix == (".xml" if adapter == "fcp_xml" else ".otio")
    clips = _timeline_clips(path, adapter)
    src_in = [83, 125, 301]
    rec_in = [0, FRAMES[0], FRAMES[0] + FRAMES[1]]
    names = ["alpha.mp4", "bravo.mp4", "alpha.mp4"]
    assert clips == list(zip(names, src_in, rec_in, FRAMES, strict=True))
    timeline = otio.adapters.read_from_file(str(path), adapter)
    sources = {
        otio.url_utils.filepath_from_url(c.media_reference.target_url)
        for c in timeline.find_clips()
    }
    assert sources == {str(rj_sources["a"].resolve()), str(rj_sources["b"].resolve())}
    kinds = [t.kind for t in timeline.tracks]
    assert kinds == [otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio]
    audio = [type(item).__name__ for item in timeline.tracks[1]]
    assert audio == ["Clip", "Gap", "Clip"]  # bravo.mp4 has no sound
    if adapter == "otio_json":
        ids = [c.metadata["scenespark"]["clip_id"] for c in timeline.tracks[0].find_clips()]
        assert ids == ["c1", "c2", "c3"]


@pytest.mark.slow
def test_thumbnails_and_paths(rj_render) -> None:
    result, home, out_dir, _ = rj_render
    assert len(result.thumbnails) == 3
    for thumb, clip in zip(result.thumbnails, result.clips, strict=True):
        path = home / thumb
        assert path.read_bytes()[:2] == b"\xff\xd8"
        with Image.open(path) as image:
            assert image.size == (320, 180)
        assert Path(thumb).stem == Path(clip.path).stem
    assert result.clips[0].path == "media/highlights/h1/clip_001_c1.mp4"
    assert result.reel_path == "media/highlights/h1/reel.mp4"
    _no_leftovers(out_dir)


@pytest.mark.slow
def test_crossfade_shrinks_the_reel_clock(rj_sources, tmp_path: Path) -> None:
    result = render_highlight(
        CLIPS, rj_sources, tmp_path / "out", home=tmp_path, speech=_speech(), crossfade_s=0.4
    )
    overlap_s = 10 * FRAME_S
    assert result.crossfade_s == pytest.approx(overlap_s)
    expected_s = sum(FRAMES) * FRAME_S - 2 * overlap_s
    assert result.reel_duration_s == pytest.approx(expected_s, abs=FRAME_S)
    r2 = FRAMES[0] * FRAME_S - overlap_s
    r3 = r2 + FRAMES[1] * FRAME_S - overlap_s
    assert [c.reel_start_s for c in result.clips] == pytest.approx([0.0, r2, r3], abs=1e-3)
    cues = {c.text: c for c in parse_subtitles(tmp_path / result.srt_path)}
    assert cues["second line"].start_s == pytest.approx(r3 + 13.0 - 12.04, abs=0.002)
    # Subtitles hand over in the middle of the transition.
    assert cues["crossing the cut"].end_s == pytest.approx(r2 + overlap_s / 2, abs=0.002)
    events = _edl_events((tmp_path / result.edl_path).read_text())
    dissolves = [e for e in events if e[2] == "D"]
    assert [e[3] for e in dissolves] == ["010", "010"]
    for adapter, rel in (("fcp_xml", result.fcp7_xml_path), ("otio_json", result.otio_path)):
        timeline = otio.adapters.read_from_file(str(tmp_path / rel), adapter)
        video = timeline.tracks[0]
        assert len(video.find_clips()) == 3
        transitions = [t for t in video if isinstance(t, otio.schema.Transition)]
        assert [(t.in_offset + t.out_offset).to_frames(FPS) for t in transitions] == [10, 10]
        # The whole timeline is as long as the reel: the dissolves overlap the clips.
        assert video.duration().to_seconds() == pytest.approx(expected_s, abs=FRAME_S)


@pytest.mark.slow
def test_stream_copy_mode(rj_sources, tmp_path: Path) -> None:
    clips = [
        Clip(clip_id="x1", video_id="a", start_s=4.0, end_s=8.0),  # keyframes every 2 s
        Clip(clip_id="x2", video_id="c", start_s=2.0, end_s=5.0),
    ]
    result = render_highlight(clips, rj_sources, tmp_path / "copy", home=tmp_path, stream_copy=True)
    assert result.stream_copy
    assert any("not frame-exact" in w for w in result.warnings)
    assert not any("re-encoded" in w for w in result.warnings)  # compatible: concat copy
    durations = [float(_streams(tmp_path / c.path)["video"]["duration"]) for c in result.clips]
    for clip, duration_s in zip(clips, durations, strict=True):
        assert abs(duration_s - (clip.end_s - clip.start_s)) < 2.1  # within one GOP
    assert result.reel_duration_s == pytest.approx(sum(durations), abs=0.1)
    # The concat demuxer places clip 2 after the longer stream of clip 1 (the file's duration).
    assert result.clips[1].reel_start_s == pytest.approx(
        _format_duration(tmp_path / result.clips[0].path), abs=0.002
    )
    for thumb in result.thumbnails:
        assert (tmp_path / thumb).stat().st_size > 0
    _no_leftovers(tmp_path / "copy")
    # Sources of different formats cannot be concat-copied: the reel is re-encoded instead.
    mixed = render_highlight(
        [clips[0], Clip(clip_id="y", video_id="b", start_s=1.0, end_s=3.0)],
        rj_sources, tmp_path / "mixed", home=tmp_path, stream_copy=True,
    )  # fmt: skip
    assert any("re-encoded" in w for w in mixed.warnings)
    streams = _streams(tmp_path / mixed.reel_path)
    assert (streams["video"]["width"], streams["video"]["height"]) == ("640", "360")
    assert "audio" in streams


@pytest.mark.slow
def test_clip_past_the_end_is_clamped_and_odd_paths_work(rj_sources, tmp_path: Path) -> None:
    out_dir = tmp_path / "it's a [test] | dir"  # characters the tee muxer and concat lists quote
    clip = Clip(clip_id="tail/../x", video_id="c", start_s=10.0, end_s=15.0)
    result = render_highlight([clip], rj_sources, out_dir, home=tmp_path)
    assert any("ends after its source" in w for w in result.warnings)
    rendered = result.clips[0]
    assert (rendered.start_s, rendered.end_s) == (10.0, 12.0)
    assert Path(rendered.path).parent == Path(out_dir.name)
    assert Path(rendered.path).name == "clip_001_tail-x.mp4"
    assert float(_streams(tmp_path / rendered.path)["video"]["duration"]) == pytest.approx(
        2.0, abs=1e-3
    )
    assert result.reel_duration_s == pytest.approx(2.0, abs=FRAME_S)
    _no_leftovers(out_dir)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_corrupt_source_raises_and_publishes_nothing(rj_sources, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    out_dir = tmp_path / "out"
    with pytest.raises(RenderError) as info:
        render_highlight(
            [Clip(clip_id="z", video_id="z", start_s=0.0, end_s=2.0)],
            {"z": corrupt},
            out_dir,
            home=tmp_path,
        )
    message = info.value.one_line()
    assert "ffprobe" in message and ("Invalid data" in message or "moov atom" in message)
    assert "\n" not in message
    assert list(out_dir.iterdir()) == []


@pytest.mark.slow
def test_failed_render_keeps_previous_outputs(rj_sources, tmp_path: Path) -> None:
    """A source whose header is intact but whose data is cut off fails mid-render (after clip 1
    was encoded): the published files of the previous render stay untouched, nothing new or
    temporary is left."""
    faststart = tmp_path / "faststart.mp4"
    _run(["ffmpeg", "-v", "error", "-y", "-i", str(rj_sources["a"]), "-c", "copy",
          "-movflags", "+faststart", str(faststart)])  # fmt: skip
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 4])
    out_dir = tmp_path / "out"
    good = render_highlight([CLIPS[0]], rj_sources, out_dir, home=tmp_path)
    before = {p.name: _digest(p) for p in out_dir.iterdir()}
    assert "reel.mp4" in before
    sources = {**rj_sources, "t": truncated}
    clips = [CLIPS[0], Clip(clip_id="late", video_id="t", start_s=20.0, end_s=22.0)]
    with pytest.raises(RenderError) as info:
        render_highlight(clips, sources, out_dir, home=tmp_path)
    assert "clip 2 of 2" in info.value.one_line()
    assert {p.name: _digest(p) for p in out_dir.iterdir()} == before
    assert good.reel_path.endswith("reel.mp4")


@pytest.mark.slow
def test_timeout_raises_render_error(rj_sources, tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="timed out"):
        render_highlight(CLIPS, rj_sources, tmp_path / "out", home=tmp_path, timeout_s=0.05)
    _no_leftovers(tmp_path / "out")
    assert [p for p in (tmp_path / "out").iterdir()] == []


def test_invalid_requests(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        render_highlight([], {}, tmp_path, home=tmp_path)
    with pytest.raises(InvalidInputError, match="unknown video"):
        render_highlight([CLIPS[0]], {}, tmp_path, home=tmp_path)


# --------------------------------------------------------------------------------------------
# Edit lists (pure)
# --------------------------------------------------------------------------------------------


def test_reel_cues_clip_and_retime() -> None:
    entries = [
        ReelEntry("a", "a.mp4", source_start_s=10.0, duration_s=5.0, reel_start_s=0.0),
        ReelEntry(
            "a", "a.mp4", source_start_s=40.0, duration_s=4.0, reel_start_s=4.0
        ),  # 1 s overlap
    ]
    speech = {
        "a": [
            Segment(
                video_id="a", modality=Modality.SPEECH, start_s=9.0, end_s=11.0, text="  start  "
            ),
            Segment(
                video_id="a", modality=Modality.SPEECH, start_s=14.0, end_s=16.0, text="end one"
            ),
            Segment(video_id="a", modality=Modality.SPEECH, start_s=40.2, end_s=41.0, text="two"),
            Segment(video_id="a", modality=Modality.SPEECH, start_s=14.96, end_s=15.5, text="tiny"),
            Segment(video_id="a", modality=Modality.SPEECH, start_s=20.0, end_s=30.0, text="gap"),
        ]
    }
    cues = reel_cues(entries, speech)
    # Clip 1 owns the reel until the middle of the overlap (4.5 s); "tiny" is clipped to < 0.1 s.
    assert [(c.text, c.start_s, c.end_s) for c in cues] == [
        ("start", 0.0, 1.0),
        ("end one", 4.0, 4.5),
        ("two", 4.5, 5.0),
    ]


def test_cmx3600_layout() -> None:
    entries = [ReelEntry("a", "my clip.mov", 3600.0, 2.0, 0.0, has_audio=False)]
    text = edl_text(entries, fps=29.97, title="Goals & saves", clip_ids=["k1"])
    lines = text.splitlines()
    assert lines[0] == "TITLE: GOALS & SAVES" and lines[1] == "FCM: NON-DROP FRAME"
    assert (
        lines[3] == "001  AX       V     C        00:59:56:12 00:59:58:12 00:00:00:00 00:00:02:00"
    )
    # OpenTimelineIO's CMX writer puts two spaces after the colon, as Avid does; the clip id
    # (an EDL has no place for it) is kept in the .otio file's metadata.
    assert "* FROM CLIP NAME:  my clip.mov" in lines
    timeline = otio.adapters.read_from_string(
        otio_text(entries, fps=29.97, title="Goals & saves", clip_ids=["k1"]), "otio_json"
    )
    assert [c.metadata["scenespark"]["clip_id"] for c in timeline.find_clips()] == ["k1"]
    # One hour of 29.97 fps video is 107,892 frames: labelled 00:59:56:12 in non-drop timecode.
    assert "00:59:56:12" in text


def test_timelines_with_dissolves_and_a_silent_clip(tmp_path: Path) -> None:
    """Pure: three clips overlapping by 10 frames at 25 fps, the middle one without sound. The
    EDL keeps the classic form (the outgoing event ends where the dissolve starts); FCP7 XML and
    .otio read back with the same clips, frames and a centred 10-frame dissolve."""
    source = tmp_path / "my source.mp4"
    entries = [
        ReelEntry("a", source.name, 3.32, 4.0, 0.0, True, str(source), 30.0),
        ReelEntry("b", source.name, 5.0, 3.0, 3.6, False, str(source), 30.0),
        ReelEntry("a", source.name, 12.0, 2.0, 6.2, True, str(source), 30.0),
    ]
    edl = edl_text(entries, fps=FPS, title="t", clip_ids=["c1", "c2", "c3"])
    events = _edl_events(edl)
    assert [(e[0], e[1], e[2], e[3]) for e in events] == [
        ("001", "AA/V", "C", None),
        ("002", "AA/V", "C", None),  # the outgoing clip's last frame before the dissolve
        ("002", "V", "D", "010"),
        ("003", "V", "C", None),
        ("003", "AA/V", "D", "010"),
    ]
    assert events[0][4:] == tuple(frames_to_timecode(f, FPS) for f in (83, 173, 0, 90))
    assert events[2][4:] == tuple(frames_to_timecode(f, FPS) for f in (125, 190, 90, 155))
    for adapter, text in (
        ("fcp_xml", fcp7_xml_text(entries, fps=FPS, title="t")),
        ("otio_json", otio_text(entries, fps=FPS, title="t")),
    ):
        path = tmp_path / f"reel.{adapter}"
        path.write_text(text, encoding="utf-8")
        # cut in the middle of each overlap: 90+5 and 155+5
        assert _timeline_clips(path, adapter) == [
            ("my source.mp4", 83, 0, 95),
            ("my source.mp4", 130, 95, 65),
            ("my source.mp4", 305, 160, 45),
        ]
        timeline = otio.adapters.read_from_file(str(path), adapter)
        dissolves = [t for t in timeline.tracks[0] if isinstance(t, otio.schema.Transition)]
        assert [(d.in_offset.to_frames(FPS), d.out_offset.to_frames(FPS)) for d in dissolves] == [
            (5, 5),
            (5, 5),
        ]
        assert [type(i).__name__ for i in timeline.tracks[1]] == ["Clip", "Gap", "Clip"]


def test_edl_channels_patch_only_the_lines_it_expects() -> None:
    from scenespark.render.timelines import _with_channels

    event = "001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00"
    text = f"TITLE: X\n\n{event}\n* FROM CLIP NAME:  a.mp4\n"
    assert _with_channels(text, ["AA/V"]).splitlines()[2] == event.replace("V    ", "AA/V ", 1)
    assert _with_channels(text, ["AA/V", "V"]) == text  # unexpected layout: left as written
