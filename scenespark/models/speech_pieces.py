"""Cutting long audio into pieces at silences, so that two Whisper lanes can share its work.

A piece ends in the middle of the longest pause near each multiple of ``piece_s`` (within half a
piece either way), so no word is cut; where no pause is found the piece simply grows. A last
piece shorter than half a piece joins the one before it.
"""

from __future__ import annotations

from itertools import pairwise

Region = tuple[float, float]  # (start_s, end_s) of speech


def pieces_at_silences(
    duration_s: float, regions: list[Region], piece_s: float
) -> list[tuple[float, float]]:
    """(start_s, end_s) pieces covering ``[0, duration_s]``; ``regions`` are where speech is."""
    if duration_s <= 0:
        return []
    ordered = sorted(regions)
    gaps = [
        (ordered[i][1], ordered[i + 1][0])
        for i in range(len(ordered) - 1)
        if ordered[i + 1][0] > ordered[i][1]
    ]
    cuts: list[float] = []
    start_s = 0.0
    target_s = piece_s
    while target_s < duration_s - piece_s / 2:
        near = [
            (end - begin, -abs((begin + end) / 2 - target_s), (begin + end) / 2)
            for begin, end in gaps
            if abs((begin + end) / 2 - target_s) <= piece_s / 2 and (begin + end) / 2 > start_s
        ]
        if near:
            cut_s = max(near)[2]
            cuts.append(cut_s)
            start_s = cut_s
            target_s = cut_s + piece_s
        else:
            target_s += piece_s / 2
    bounds = [0.0, *cuts, duration_s]
    pieces = list(pairwise(bounds))
    if len(pieces) > 1 and pieces[-1][1] - pieces[-1][0] < piece_s / 2:
        last = pieces.pop()
        pieces[-1] = (pieces[-1][0], last[1])
    return pieces
