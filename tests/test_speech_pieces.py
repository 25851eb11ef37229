"""Long audio shared between Whisper lanes: cut at pauses, same words and timings as one lane."""

from __future__ import annotations

import difflib
import itertools
import re
import threading
from pathlib import Path

import pytest

from scenespark.config import load_settings
from scenespark.media.ffmpeg import ffmpeg, run_tool
from scenespark.models.speech_pieces import pieces_at_silences


def test_pieces_cut_in_the_longest_pause_near_each_target() -> None:
    regions = [(0.5, 9.0), (9.3, 19.0), (21.0, 31.0), (31.2, 38.0), (40.0, 58.0), (58.4, 70.0)]
    pieces = pieces_at_silences(70.0, regions, 20.0)
    # the pauses 19-21, 38-40 and 58.0-58.4 (not 9.0-9.3 or 31.0-31.2: too far from a target)
    flat = [t for piece in pieces for t in piece]
    assert flat == pytest.approx([0.0, 20.0, 20.0, 39.0, 39.0, 58.2, 58.2, 70.0])
    for start, end in pieces:  # no speech region is cut
        assert not any(lo < start < hi or lo < end < hi for lo, hi in regions)


def test_pieces_short_audio_no_pause_and_short_tail() -> None:
    assert pieces_at_silences(0.0, [], 20.0) == []
    assert pieces_at_silences(25.0, [(0.0, 12.0), (13.0, 25.0)], 20.0) == [(0.0, 25.0)]
    assert pieces_at_silences(100.0, [(0.0, 100.0)], 20.0) == [(0.0, 100.0)]  # nowhere to cut
    # a tail shorter than half a piece joins the piece before it
    regions = [(0.0, 19.0), (21.0, 44.0), (45.0, 47.0)]
    assert pieces_at_silences(47.0, regions, 20.0) == [(0.0, 20.0), (20.0, 47.0)]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


@pytest.fixture(scope="module")
def long_speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 50 s: six TTS sentences (two voices), each with a pause of about a second."""
    folder = tmp_path_factory.mktemp("pieces")
    sentences = [
        "The little brown dog runs across the green garden every morning.",
        "Please open the window because the kitchen is very warm today.",
        "Our train leaves the northern station at seven in the evening.",
        "She painted the old wooden fence a bright shade of yellow.",
        "Fresh bread from the corner bakery sells out before noon.",
        "The museum opens a new exhibition about ancient ships next week.",
    ]
    parts = []
    for index, text in enumerate(sentences):
        raw = folder / f"s{index}_raw.wav"
        if index % 2 == 0:
            run_tool(["espeak-ng", "-v", "en-us", "-s", "140", "-w", raw, text], timeout_s=60)
        else:
            run_tool(["flite", "-voice", "slt", "-t", text, "-o", raw], timeout_s=60)
        part = folder / f"s{index}.wav"
        ffmpeg(
            ["-i", raw, "-af", "apad=pad_dur=1.2", "-ar", "16000", "-ac", "1", part], timeout_s=60
        )
        parts.append(part)
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    wav = folder / "long.wav"
    ffmpeg(["-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", wav], timeout_s=60)
    return wav


@pytest.mark.slow
def test_two_lanes_hear_what_one_lane_hears(tmp_path: Path, long_speech_wav: Path) -> None:
    from scenespark.models.speech import WhisperRecognizer
    from scenespark.models.speech_timing import speech_regions

    settings = load_settings(home=tmp_path / "home", model_threads=1)
    piece_s = 12.0
    assert len(pieces_at_silences(60.0, speech_regions(long_speech_wav), piece_s)) >= 3
    one = WhisperRecognizer.from_settings(settings, lanes=1).transcribe(long_speech_wav)
    shared = WhisperRecognizer.from_settings(settings, lanes=2, piece_s=piece_s)
    frames_done = threading.Event()
    threading.Timer(1.0, frames_done.set).start()  # the second lane joins a second later
    two = shared.transcribe(long_speech_wav, more_lanes=frames_done)
    assert two.language == one.language == "en"
    words_one, words_two = _words(one.text), _words(two.text)
    assert len(words_one) >= 50
    # the same words (Whisper may hear one word differently at a piece edge)
    same = sum(a == b for a, b in zip(words_one, words_two, strict=False))
    assert same >= len(words_one) - 3, (one.text, two.text)
    assert all(a.start_s <= b.start_s for a, b in itertools.pairwise(two.words))
    assert two.words[0].start_s >= 0.0 and two.words[-1].end_s <= two.duration_s + 0.05
    # word timings agree with the single lane's (same audio, pieces cut in pauses)
    texts_one = [_words(w.text)[0] if _words(w.text) else "" for w in one.words]
    texts_two = [_words(w.text)[0] if _words(w.text) else "" for w in two.words]
    matcher = difflib.SequenceMatcher(a=texts_one, b=texts_two, autojunk=False)
    pairs = [
        (one.words[block.a + k], two.words[block.b + k])
        for block in matcher.get_matching_blocks()
        for k in range(block.size)
    ]
    assert len(pairs) >= len(one.words) - 3
    gaps = [abs(a.start_s - b.start_s) for a, b in pairs]
    assert max(gaps) <= 0.3, gaps
    # a second lane that is never let in: the first lane does every piece
    alone = shared.transcribe(long_speech_wav, more_lanes=threading.Event())
    assert _words(alone.text) == words_two


def test_lanes_follow_the_settings(tmp_path: Path) -> None:
    import os

    from scenespark.models.speech import WhisperRecognizer

    home = tmp_path / "home"
    assert WhisperRecognizer.from_settings(load_settings(home=home, speech_lanes=1)).lanes == 1
    assert WhisperRecognizer.from_settings(load_settings(home=home, speech_lanes=3)).lanes == 3
    auto = load_settings(home=home, model_threads=1, workers=1)  # the default: 0 = auto
    assert WhisperRecognizer.from_settings(auto).lanes == (os.cpu_count() or 1)
    many_threads = load_settings(home=home, speech_lanes=0, model_threads=64)
    assert WhisperRecognizer.from_settings(many_threads).lanes == 1
