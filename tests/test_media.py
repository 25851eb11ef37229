"""Media handling: probing, path expansion, subtitles, audio, frames, shots, samples, thumbnails."""

from __future__ import annotations

import hashlib
import itertools
import os
import wave
from pathlib import Path

import numpy as np
import pytest

from scenespark.errors import ConfigError, MediaError
from scenespark.media.audio import extract_audio_wav
from scenespark.media.frames import get_frame_reader, iter_frames
from scenespark.media.imagehash import dhash, hamming, phash
from scenespark.media.probe import collect_video_files, probe_media
from scenespark.media.scan import OcrSample, ScanResult, VisualSample, scan_video
from scenespark.media.shots import shots_from_cuts
from scenespark.media.subtitles import (
    Cue,
    find_sidecar,
    format_srt_time,
    parse_subtitle_text,
    parse_subtitles,
    write_srt,
)
from scenespark.media.thumbs import save_thumbnail

FRAME_S = 1 / 25

# ------------------------------------------------------------------------------------------
# probe
# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_probe_values(sample_video) -> None:
    info = probe_media(sample_video.path)
    assert info.duration_s == pytest.approx(sample_video.truth.duration_s, abs=0.1)
    assert info.fps == pytest.approx(25.0)
    assert (info.width, info.height) == (640, 360)
    assert info.has_audio is True
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.content_sha256 == hashlib.sha256(sample_video.path.read_bytes()).hexdigest()
    assert info.size_bytes == sample_video.path.stat().st_size
    assert info.video_id == info.content_sha256[:16]


@pytest.mark.slow
def test_probe_silent_unicode_and_short(silent_video, unicode_name_video, short_video) -> None:
    assert probe_media(silent_video).has_audio is False
    info = probe_media(unicode_name_video)
    assert info.path.endswith("vidéo de test ü.mp4") and info.duration_s == pytest.approx(
        3.0, abs=0.1
    )
    short = probe_media(short_video)  # a 0.48 s video is still a valid video
    assert 0.0 < short.duration_s < 1.0


def _bad_files(tmp_path: Path, corrupt_video, truncated_faststart_video, audio_only, empty_file):
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 20)
    return {
        "missing": (tmp_path / "nope.mp4", "no such file"),
        "folder": (tmp_path, "folder"),
        "empty": (empty_file, "empty"),
        "text": (text, "not a readable video"),
        "corrupt": (corrupt_video, "not a readable video"),
        "truncated": (truncated_faststart_video, "truncated"),
        "audio_only": (audio_only, "audio-only"),
    }


@pytest.mark.slow
def test_probe_bad_inputs_one_line(
    tmp_path, corrupt_video, truncated_faststart_video, audio_only, empty_file
):
    for name, (path, words) in _bad_files(
        tmp_path, corrupt_video, truncated_faststart_video, audio_only, empty_file
    ).items():
        with pytest.raises(MediaError) as info:
            probe_media(path)
        message = str(info.value)
        assert "\n" not in message, name
        assert words in message, f"{name}: {message}"


# ------------------------------------------------------------------------------------------
# collecting files
# ------------------------------------------------------------------------------------------


def test_collect_video_files_recursive_with_symlink_loop(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / "a" / "b").mkdir(parents=True)
    (lib / "empty").mkdir()
    for rel in ("x.mp4", "a/y.MKV", "a/b/z dé.webm", "a/readme.txt", ".hidden.mp4"):
        (lib / rel).write_bytes(b"0")
    os.symlink(lib, lib / "a" / "b" / "loop")  # points back at an ancestor
    os.symlink(lib / "x.mp4", lib / "a" / "x_link.mp4")  # same file twice
    os.symlink(tmp_path / "gone.mp4", lib / "dangling.mp4")
    files, problems = collect_video_files(
        [lib, tmp_path / "missing", lib / "empty"], recursive=True
    )
    names = sorted(p.name for p in files)
    assert names == ["x.mp4", "y.MKV", "z dé.webm"]
    assert files == sorted(files, key=str)
    assert any(p.startswith("symlink loop at") and p.endswith("loop skipped") for p in problems)
    assert f"no such file: {tmp_path / 'missing'}" in problems
    assert any(p.startswith("no videos in folder") and "empty" in p for p in problems)
    assert any("broken symlink" in p for p in problems)
    assert all("\n" not in p for p in problems)


def test_collect_video_files_not_recursive(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "top.mov").write_bytes(b"0")
    (tmp_path / "sub" / "deep.mp4").write_bytes(b"0")
    explicit = tmp_path / "clip.bin"
    explicit.write_bytes(b"0")
    files, problems = collect_video_files([tmp_path, explicit], recursive=False)
    assert [p.name for p in files] == ["clip.bin", "top.mov"]
    assert problems == []


# ------------------------------------------------------------------------------------------
# subtitles
# ------------------------------------------------------------------------------------------

SRT = (
    "\ufeff1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> &amp; welcome\r\n\r\n"
    "2\r\n00:00:03.2 --> 00:00:04,000\r\nline one\r\nline two\r\n\r\n"
    "00:01:05,000 --> 00:01:06,000\r\n{\\an8}no id here\r\n"
)
VTT = """WEBVTT - test

NOTE a comment block
with two lines

STYLE
::cue { color: red }

intro
00:01.000 --> 00:02.000 align:start position:10%
<v Roger>First <b>cue</b>

01:00:00.500 --> 01:00:01.000
Hour cue
"""


def test_parse_srt_tolerant() -> None:
    cues = parse_subtitle_text(SRT)
    assert cues == [
        Cue(1.0, 2.5, "Hello & welcome"),
        Cue(3.2, 4.0, "line one line two"),
        Cue(65.0, 66.0, "no id here"),
    ]


def test_parse_vtt_tolerant() -> None:
    cues = parse_subtitle_text(VTT)
    assert cues == [Cue(1.0, 2.0, "First cue"), Cue(3600.5, 3601.0, "Hour cue")]


def test_srt_round_trip_and_errors(tmp_path: Path) -> None:
    cues = [Cue(0.0, 1.234, "Zéro"), Cue(59.9996, 3725.5, "long one")]
    path = write_srt(cues, tmp_path / "out" / "x.srt")
    back = parse_subtitles(path)
    assert [c.text for c in back] == ["Zéro", "long one"]
    assert back[0].end_s == pytest.approx(1.234) and back[1].start_s == pytest.approx(60.0)
    assert format_srt_time(3725.5) == "01:02:05,500" and format_srt_time(-1) == "00:00:00,000"
    bad = tmp_path / "bad.srt"
    bad.write_text("just some words\nno timings\n")
    with pytest.raises(MediaError, match="no subtitle cues"):
        parse_subtitles(bad)
    binary = tmp_path / "bin.vtt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(MediaError):
        parse_subtitles(binary)
    with pytest.raises(MediaError, match="no such subtitle file"):
        parse_subtitles(tmp_path / "none.srt")


def test_find_sidecar(tmp_path: Path) -> None:
    video = tmp_path / "talk 1.mp4"
    video.write_bytes(b"0")
    assert find_sidecar(video) is None
    (tmp_path / "talk 1.fr.vtt").write_text("WEBVTT\n")
    (tmp_path / "talk 1.en.srt").write_text("")
    assert find_sidecar(video) == tmp_path / "talk 1.en.srt"
    (tmp_path / "talk 1.vtt").write_text("WEBVTT\n")
    assert find_sidecar(video) == tmp_path / "talk 1.vtt"


# ------------------------------------------------------------------------------------------
# audio, thumbnails, hashes
# ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_extract_audio(sample_video, silent_video, tmp_path: Path) -> None:
    out = extract_audio_wav(sample_video.path, tmp_path / "a.wav", timeout_s=60)
    with wave.open(str(out)) as handle:
        assert handle.getnchannels() == 1 and handle.getframerate() == 16000
        duration_s = handle.getnframes() / 16000
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)
    assert duration_s == pytest.approx(sample_video.truth.duration_s, abs=0.2)
    span = sample_video.truth.narrations[0]
    speech = samples[int(span.start_s * 16000) : int(span.end_s * 16000)]
    after = samples[int((span.end_s + 1) * 16000) : int((span.end_s + 3) * 16000)]
    assert np.abs(speech).mean() > 20 * max(1.0, np.abs(after).mean())  # narration is where said
    with pytest.raises(MediaError, match="no audio stream"):
        extract_audio_wav(silent_video, tmp_path / "b.wav", timeout_s=60)


def _onset_s(samples: np.ndarray, rate: int) -> float:
    loud = np.flatnonzero(np.abs(samples.astype(np.float64)) > 3000)
    return float(loud[0]) / rate


def test_extract_audio_keeps_the_video_clock_across_timestamp_gaps(tmp_path: Path) -> None:
    """A 0.5 s gap in the audio timestamps at 1 s: a beep at stream time 3.5 s stays at 3.5 s."""
    from scenespark.media.ffmpeg import ffmpeg

    video = tmp_path / "gap.mp4"
    ffmpeg(
        [
            *("-f", "lavfi", "-i", "color=c=blue:s=160x120:r=25:d=6"),
            *("-f", "lavfi", "-i", "sine=f=440:d=5:sample_rate=48000"),
            "-filter_complex",
            "[1:a]volume='if(between(t,3,3.5),1,0)':eval=frame,"
            "asetpts='if(gte(T,1),PTS+0.5/TB,PTS)'[a]",
            *("-map", "0:v", "-map", "[a]", "-c:v", "libx264", "-c:a", "aac", "-shortest"),
            video,
        ],
        timeout_s=60,
        what="gap fixture",
    )
    out = extract_audio_wav(video, tmp_path / "gap.wav", timeout_s=60)
    with wave.open(str(out)) as handle:
        samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype=np.int16)
        rate = handle.getframerate()
    assert _onset_s(samples, rate) == pytest.approx(3.5, abs=0.05)
    assert len(samples) / rate == pytest.approx(5.5, abs=0.1)


def test_thumbnail_and_hashes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    image = (rng.random((360, 640, 3)) * 255).astype(np.uint8)
    path = save_thumbnail(image, tmp_path / "t" / "x.jpg", max_side=160)
    from PIL import Image

    with Image.open(path) as img:
        assert img.format == "JPEG" and max(img.size) == 160
    assert not list((tmp_path / "t").glob(".tmp-*"))
    with pytest.raises(MediaError):
        save_thumbnail(image[..., 0], tmp_path / "y.jpg")
    import cv2

    coarse = (rng.random((9, 16, 3)) * 200).astype(np.uint8)
    smooth = cv2.resize(coarse, (640, 360), interpolation=cv2.INTER_CUBIC)
    brighter = np.clip(smooth.astype(np.int16) + 12, 0, 255).astype(np.uint8)
    assert hamming(phash(smooth), phash(brighter)) <= 4
    assert hamming(dhash(smooth), dhash(brighter)) <= 4
    assert hamming(phash(smooth), phash(image)) > 12


# ------------------------------------------------------------------------------------------
# frames, shots, samples
# ------------------------------------------------------------------------------------------

_SCANS: dict[tuple[str, str], ScanResult] = {}


def _scan(video, reader: str) -> ScanResult:
    key = (str(video.path), reader)
    if key not in _SCANS:
        _SCANS[key] = scan_video(
            video.path, reader=reader, frame_interval_s=1.0, ocr_interval_s=0.5
        )
    return _SCANS[key]


def test_reader_factory() -> None:
    assert get_frame_reader("pyav").name == "pyav" and get_frame_reader("decord").name == "decord"
    with pytest.raises(ConfigError):
        get_frame_reader("opencv")


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["pyav", "decord"])
def test_iter_frames_every_s(silent_video, reader: str) -> None:
    frames = list(iter_frames(silent_video, every_s=0.4, reader=reader))
    times = [f.time_s for f in frames]
    assert times == pytest.approx([0.4 * i for i in range(8)], abs=FRAME_S / 2)
    assert [f.index for f in frames] == [10 * i for i in range(8)]
    first = frames[0]
    assert first.small.shape == (36, 64, 3) and first.small.dtype == np.uint8
    assert first.image(160).shape == (90, 160, 3)
    assert first.gray(64).shape == (36, 64)


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["pyav", "decord"])
def test_shots_at_generated_cuts(sample_video, reader: str) -> None:
    result = _scan(sample_video, reader)
    assert result.frames_decoded == round(sample_video.truth.duration_s * 25)
    assert result.cuts_s == pytest.approx(sample_video.truth.cuts_s, abs=FRAME_S / 2)
    shots = result.shots
    assert [s.shot_id for s in shots] == [0, 1, 2]
    assert shots[0].start_s == 0.0 and shots[-1].end_s == pytest.approx(
        sample_video.truth.duration_s, abs=0.05
    )
    assert all(a.end_s == b.start_s for a, b in itertools.pairwise(shots))
    assert all(s.start_s < s.keyframe_s < s.end_s for s in shots)


@pytest.mark.slow
def test_readers_agree(sample_video) -> None:
    a, b = _scan(sample_video, "pyav"), _scan(sample_video, "decord")
    assert [s.start_s for s in a.shots] == pytest.approx([s.start_s for s in b.shots], abs=1e-3)
    assert [v.time_s for v in a.visual if v.reason == "keyframe"] == pytest.approx(
        [v.time_s for v in b.visual if v.reason == "keyframe"], abs=1e-3
    )


@pytest.mark.slow
def test_phone_rotation_is_applied_like_ffmpeg_does(tmp_path: Path) -> None:
    """A landscape-coded stream with a 90° display matrix is probed and read upright."""
    from scenespark.media.ffmpeg import ffmpeg

    coded, rotated = tmp_path / "coded.mp4", tmp_path / "phone.mp4"
    ffmpeg(
        [
            *("-f", "lavfi", "-i", "color=red:s=160x180:d=1:r=25"),
            *("-f", "lavfi", "-i", "color=blue:s=160x180:d=1:r=25"),
            *("-filter_complex", "[0:v][1:v]hstack,format=yuv420p", "-c:v", "libx264", coded),
        ],
        timeout_s=60,
        what="fixture",
    )
    ffmpeg(
        ["-i", coded, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated],
        timeout_s=60,
        what="fixture",
    )
    info = probe_media(rotated)
    assert (info.width, info.height) == (180, 320) and info.rotation_deg in (90, 270)
    # what ffmpeg shows (it applies the display matrix when decoding)
    raw = ffmpeg(
        ["-i", rotated, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        timeout_s=60,
        what="reference frame",
    ).stdout
    reference = np.frombuffer(raw, dtype=np.uint8).reshape(320, 180, 3)
    frame = next(iter(iter_frames(rotated, every_s=1.0)))
    assert (frame.width, frame.height) == (180, 320)
    image = frame.image(max_side=320)
    assert image.shape == (320, 180, 3)
    top, bottom = image[:100].reshape(-1, 3).mean(0), image[-100:].reshape(-1, 3).mean(0)
    ref_top = reference[:100].reshape(-1, 3).mean(0)
    assert np.argmax(top) == np.argmax(ref_top) and np.argmax(bottom) != np.argmax(top)
    assert frame.gray(max_side=160).shape == (160, 90)


def test_no_cut_on_slow_zoom(zoom_video) -> None:
    result = scan_video(zoom_video.path, frame_interval_s=1.0, ocr_interval_s=1.0)
    assert result.cuts_s == pytest.approx(zoom_video.truth.cuts_s, abs=FRAME_S / 2)
    zoom_shot = [o for o in result.ocr if o.shot_id == 1]
    # a slow zoom is not "new text": far fewer OCR frames than candidates (8 s, 1 per s)
    assert 1 <= len(zoom_shot) <= 4


@pytest.mark.slow
def test_samples_dedup_static_scene(sample_video) -> None:
    result = _scan(sample_video, "pyav")
    static = [v for v in result.visual if v.shot_id == 2]  # 7 s of smptebars, 1 s interval
    assert len(static) == 1 and static[0].reason == "keyframe"
    moving = [v for v in result.visual if v.shot_id == 0]  # 7 s of testsrc2: changes all the time
    assert len(moving) >= 5
    assert all(v.image.shape == (360, 640, 3) for v in result.visual)
    times = [v.time_s for v in result.visual]
    assert times == sorted(times)


@pytest.mark.slow
def test_ocr_candidates_follow_text(sample_video) -> None:
    result = _scan(sample_video, "pyav")
    text = sample_video.truth.texts[0]  # appears at 10.0 s, gone at 12.5 s, on a still picture
    still = [o for o in result.ocr if o.shot_id == 1]
    starts = [o.time_s for o in still]
    assert any(text.start_s <= t < text.start_s + 0.5 + FRAME_S for t in starts), starts
    assert any(text.end_s <= t < text.end_s + 0.5 + FRAME_S for t in starts), starts
    assert len(still) == 3  # keyframe, text on, text off: the static picture is not re-read
    assert still[0].start_s == pytest.approx(7.0) and still[-1].end_s == pytest.approx(13.0)
    for prev, nxt in zip(result.ocr, result.ocr[1:], strict=False):
        assert prev.end_s == pytest.approx(nxt.start_s)
    smpte = [o for o in result.ocr if o.shot_id == 2]
    assert len(smpte) == 1


@pytest.mark.slow
def test_ocr_candidates_follow_text_rewritten_in_place(tmp_path: Path) -> None:
    """A slide whose number changes (same place, same size): the edge density barely moves,
    the ink does; the new text gets its own OCR sample, the unchanged slide none."""
    from scenespark.media.ffmpeg import ffmpeg

    video = tmp_path / "slides.mp4"
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    ffmpeg(
        [
            "-f", "lavfi", "-i", "color=c=0x1e2a38:s=640x360:r=25:d=9",
            "-vf",
            f"drawtext=fontfile={font}:fontsize=36:fontcolor=white:x=200:y=140"
            ":text='Page %{eif\\:trunc(t/3)+1\\:d}'",
            "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", video,
        ],
        timeout_s=60,
    )  # fmt: skip
    result = scan_video(video)
    assert len(result.shots) == 1
    starts = [o.time_s for o in result.ocr]
    assert len(starts) == 3, starts  # page 1 (keyframe), page 2, page 3
    for change_s in (3.0, 6.0):
        assert any(change_s <= t < change_s + 1.0 + FRAME_S for t in starts), starts


@pytest.mark.slow
def test_scan_streams_to_callbacks(silent_video) -> None:
    visual: list[VisualSample] = []
    ocr: list[OcrSample] = []
    progress: list[float] = []
    result = scan_video(
        silent_video,
        on_visual=visual.append,
        on_ocr=ocr.append,
        on_progress=lambda fraction, _message: progress.append(fraction),
        frame_interval_s=1.0,
    )
    assert visual and ocr and result.visual == [] and result.ocr == []
    assert result.visual_count == len(visual) and result.ocr_count == len(ocr)
    assert progress[-1] == 1.0 and progress == sorted(progress)


@pytest.mark.slow
def test_scan_short_video(short_video) -> None:
    result = scan_video(short_video)
    assert len(result.shots) == 1 and len(result.visual) == 1


def test_shots_from_cuts() -> None:
    shots = shots_from_cuts([2.0, 2.2, 9.9], 10.0, min_shot_s=0.5)
    assert [(s.start_s, s.end_s) for s in shots] == [(0.0, 2.0), (2.0, 10.0)]
