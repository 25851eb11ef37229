"""Checking highlight reels against a dataset's ``highlights`` prompts (scenespark-eval/1).

A correct reel uses only time from the ``draw_from`` scenes, touches none of the
``must_not_include`` scenes, lasts ``target_duration_s`` ±10 %, cuts within 0.3 s of a sentence
boundary or shot cut, and its SRT stays on the reel's clock.
"""

from __future__ import annotations

from pathlib import Path

from scenespark.errors import MediaError
from scenespark.media.probe import quick_probe
from scenespark.media.subtitles import parse_subtitles
from scenespark.types import HighlightResult

EDGE_TOLERANCE_S = 0.1  # a clip may graze a scene edge by this much (frame rounding)
CUT_TOLERANCE_S = 0.3


def _scene_spans(dataset: dict) -> dict[str, tuple[float, float]]:
    return {s["id"]: (float(s["start_s"]), float(s["end_s"])) for s in dataset["scenes"]}


def boundaries(dataset: dict) -> list[float]:
    """True sentence starts/ends and shot cuts (and the video's ends)."""
    points = {0.0, float(dataset["duration_s"])}
    for scene in dataset["scenes"]:
        for shot in scene["shots"]:
            points.update((float(shot["start_s"]), float(shot["end_s"])))
    for line in dataset["narration"]:
        points.update((float(line["start_s"]), float(line["end_s"])))
    return sorted(points)


def check_reel(item: dict, dataset: dict, result: HighlightResult, home: Path) -> dict:
    scenes = _scene_spans(dataset)
    allowed = [scenes[s] for s in item["draw_from"]]
    forbidden = [scenes[s] for s in item["must_not_include"]]
    points = boundaries(dataset)
    target = float(item["target_duration_s"])
    duration_s = quick_probe(home / result.reel_path)[1] if result.reel_path else 0.0
    clips = []
    for clip in result.clips:
        inside = any(
            clip.start_s >= lo - EDGE_TOLERANCE_S and clip.end_s <= hi + EDGE_TOLERANCE_S
            for lo, hi in _merge(allowed)
        )
        touches = any(
            min(clip.end_s, hi) - max(clip.start_s, lo) > EDGE_TOLERANCE_S for lo, hi in forbidden
        )
        cut_error = max(_distance(clip.start_s, points), _distance(clip.end_s, points))
        clips.append(
            {
                "start_s": clip.start_s,
                "end_s": clip.end_s,
                "inside_allowed": inside,
                "touches_forbidden": touches,
                "cut_error_s": round(cut_error, 3),
            }
        )
    srt_ok = _srt_on_reel_clock(home / result.srt_path, duration_s) if result.srt_path else False
    return {
        "id": item["id"],
        "prompt": item["prompt"],
        "target_s": target,
        "duration_s": round(duration_s, 3),
        "duration_ok": abs(duration_s - target) <= 0.1 * target,
        "clips": clips,
        "all_inside": bool(clips) and all(c["inside_allowed"] for c in clips),
        "none_forbidden": not any(c["touches_forbidden"] for c in clips),
        "cuts_ok": bool(clips) and all(c["cut_error_s"] <= CUT_TOLERANCE_S for c in clips),
        "srt_ok": srt_ok,
        "warnings": result.warnings,
    }


def _merge(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1] + 1e-6:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _distance(time_s: float, points: list[float]) -> float:
    return min(abs(time_s - p) for p in points)


def _srt_on_reel_clock(path: Path, reel_duration_s: float) -> bool:
    try:
        cues = parse_subtitles(path)
    except (MediaError, OSError):
        return False
    previous_end = 0.0
    for cue in cues:
        if cue.start_s < previous_end - 1e-3 or cue.end_s > reel_duration_s + 0.1:
            return False
        previous_end = cue.end_s
    return True
