"""Editor timelines of a rendered reel, written through OpenTimelineIO and its adapters.

One OTIO timeline describes the reel: a video track (and an audio track when a source has sound)
with one clip per reel entry, referencing the SOURCE file at the clip's source timecodes, with a
dissolve where consecutive clips overlap on the reel (a crossfade). From it come:

- ``reel.edl``: CMX3600 (``otio-cmx3600-adapter``), non-drop-frame;
- ``reel.xml``: Final Cut Pro 7 XML (``otio-fcp-adapter``), which Premiere and Resolve import;
- ``reel.otio``: OpenTimelineIO's own JSON, with SceneSpark's clip and video ids as metadata.

Times are counted in whole frames of the reel's frame rate (the probed rate of the first source,
see ``ffmpeg_steps.output_fps``), as the reel itself is. Source timecodes count from 00:00:00:00
at the start of each source file; record timecodes are positions on the reel. Where clips overlap
by a crossfade, the OTIO transition is centred on the middle of the overlap (where the subtitles
switch too); the CMX adapter turns it back into the usual EDL form, the outgoing event ending where
the incoming one starts and the dissolve belonging to the incoming event.

An EDL carries no frame rate and timecodes label frame COUNTS: at 29.97 fps the non-drop-frame
label of frame 107,892 is 00:59:56:12. The EDL is therefore written from the same frame counts
labelled at the integer timecode base (30), with an ``FCM: NON-DROP FRAME`` line the adapter does
not write itself. The FCP7 XML and .otio keep the true rate (30000/1001 → timebase 30, NTSC).
No FCPXML (Final Cut Pro X): ``otio-fcpx-xml-adapter`` 1.0.0 raised on a 29.97 fps timeline and
dropped the dissolves of a 25 fps one when tried on these timelines.
The CMX adapter writes video events only (its writer emits the first video track); the audio of
each clip is in the FCP7 XML and .otio files.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from scenespark.errors import RenderError
from scenespark.render.edit_lists import ReelEntry

log = logging.getLogger(__name__)

EDL_ADAPTER = "cmx_3600"
FCP7_ADAPTER = "fcp_xml"
OTIO_ADAPTER = "otio_json"
EDL_TITLE_MAX = 70
MIN_DISSOLVE_FRAMES = 2  # a shorter overlap is written as a cut (FCP7 cannot centre it)
EDL_REEL = "AX"  # "auxiliary source": file-based media, the file named in the comments
_NON_ASCII = re.compile(r"[^\x20-\x7e]")
# "001  AX       V     C        00:00:01:00 ..." (edit, reel, channels, transition, timecodes)
_EVENT_LINE = re.compile(r"^(?P<head>\d{3}  \S.{7} )V     (?P<tail>[CD] .*)$")


def timecode_rate(fps: float) -> int:
    """Integer timecode base for an fps (29.97 → 30 non-drop, 23.976 → 24)."""
    return max(1, round(fps))


def seconds_to_frames(seconds: float, fps: float) -> int:
    return math.floor(seconds * fps + 1e-6 + 0.5)


def ascii_name(text: str, limit: int = 120) -> str:
    """EDLs are ASCII: other characters become ``_``."""
    return _NON_ASCII.sub("_", text)[:limit] or "untitled"


@dataclass(frozen=True, slots=True)
class _Cut:
    """One entry on the timeline, in frames: the source frame and reel position where it is
    shown from, how long, and the dissolve before it (frames before and after the cut)."""

    source_first: int
    length: int
    dissolve_in: int  # transition frames before the cut (the incoming clip's handle)
    dissolve_out: int  # transition frames after the cut (the outgoing clip's handle)


def _cuts(entries: Sequence[ReelEntry], fps: float) -> list[_Cut]:
    """Where one entry gives way to the next: in the middle of their overlap (a crossfade), as the
    subtitles do, so the dissolve is centred on the cut (the alignment FCP7 XML reads back).
    A one-frame overlap is a plain cut."""
    rec_in = [seconds_to_frames(e.reel_start_s, fps) for e in entries]
    rec_end = [seconds_to_frames(e.reel_end_s, fps) for e in entries]
    src_in = [seconds_to_frames(e.source_start_s, fps) for e in entries]
    overlaps = [0] + [max(0, rec_end[i - 1] - rec_in[i]) for i in range(1, len(entries))]
    dissolves = [o if o >= MIN_DISSOLVE_FRAMES else 0 for o in overlaps]
    cut_at = [rec_in[i] + dissolves[i] // 2 for i in range(len(entries))]
    cuts = []
    for i in range(len(entries)):
        end = cut_at[i + 1] if i + 1 < len(entries) else rec_end[i]
        head = dissolves[i] // 2
        cuts.append(_Cut(src_in[i] + head, end - cut_at[i], head, dissolves[i] - head))
    return cuts


def reel_timeline(
    entries: Sequence[ReelEntry],
    *,
    fps: float,
    title: str,
    clip_ids: Sequence[str] = (),
    label_rate: float | None = None,
    ascii_names: bool = False,
) -> otio.schema.Timeline:
    """The reel as an OTIO timeline: frames counted at ``fps``, labelled at ``label_rate``
    (default ``fps``; the EDL passes the integer timecode base)."""
    rate = float(label_rate or fps)
    label: Callable[[str], str] = ascii_name if ascii_names else str

    def frames(count: int) -> RationalTime:
        return RationalTime(count, rate)

    timeline = otio.schema.Timeline(name=label(title))
    timeline.global_start_time = frames(0)
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
    for i, (entry, cut) in enumerate(zip(entries, _cuts(entries, fps), strict=True)):
        clip_id = clip_ids[i] if i < len(clip_ids) else ""
        available = seconds_to_frames(entry.source_duration_s, fps)
        for track in (video, audio):
            if track is audio and not entry.has_audio:
                track.append(otio.schema.Gap(source_range=TimeRange(frames(0), frames(cut.length))))
                continue
            if cut.dissolve_in + cut.dissolve_out and (track is video or entries[i - 1].has_audio):
                track.append(
                    otio.schema.Transition(
                        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                        in_offset=frames(cut.dissolve_in),
                        out_offset=frames(cut.dissolve_out),
                    )
                )
            clip = _clip(entry, clip_id, (cut.source_first, cut.length), available, rate, label)
            # The FCP7 writer shares one <clipitem> between identical clips; a video clip next
            # to a dissolve cannot be shared with an audio track that has none.
            clip.metadata["scenespark"]["track"] = track.kind
            track.append(clip)
    timeline.tracks.append(video)
    if any(e.has_audio for e in entries):
        timeline.tracks.append(audio)
    return timeline


def _clip(
    entry: ReelEntry,
    clip_id: str,
    span: tuple[int, int],
    available: int,
    rate: float,
    label: Callable[[str], str],
) -> otio.schema.Clip:
    """One reel entry as an OTIO clip: ``span`` (first frame, length) of the source file, whose
    ``available`` frames are all referenced (the handles a dissolve uses)."""
    first, length = span
    reference = otio.schema.ExternalReference(
        target_url=Path(entry.source_path).resolve().as_uri() if entry.source_path else "",
        available_range=TimeRange(
            RationalTime(0, rate), RationalTime(max(available, first + length), rate)
        ),
    )
    clip = otio.schema.Clip(
        name=label(entry.source_name),
        media_reference=reference,
        source_range=TimeRange(RationalTime(first, rate), RationalTime(length, rate)),
    )
    clip.metadata["cmx_3600"] = {"reel": EDL_REEL}
    clip.metadata["scenespark"] = {"clip_id": clip_id, "video_id": entry.video_id}
    return clip


def edl_text(
    entries: Sequence[ReelEntry], *, fps: float, title: str, clip_ids: Sequence[str] = ()
) -> str:
    """A CMX3600 EDL (non-drop frame): one cut event per clip, dissolves where clips overlap."""
    timeline = reel_timeline(
        entries,
        fps=fps,
        title=ascii_name(title).upper()[:EDL_TITLE_MAX],
        clip_ids=clip_ids,
        label_rate=timecode_rate(fps),
        ascii_names=True,
    )
    text = _with_channels(
        _write(timeline, EDL_ADAPTER, style="avid"), _event_channels(entries, fps)
    )
    head, _, rest = text.partition("\n")
    return f"{head}\nFCM: NON-DROP FRAME\n{rest}"


def _event_channels(entries: Sequence[ReelEntry], fps: float) -> list[str]:
    """The channels of each event line the adapter writes, in order: one line per clip, and
    before a dissolve one more for the outgoing clip's tail."""
    channels: list[str] = []
    for i, (entry, cut) in enumerate(zip(entries, _cuts(entries, fps), strict=True)):
        if cut.dissolve_in + cut.dissolve_out:
            channels.append(_channel(entries[i - 1]))
        channels.append(_channel(entry))
    return channels


def _channel(entry: ReelEntry) -> str:
    return "AA/V" if entry.has_audio else "V"


def _with_channels(text: str, channels: list[str]) -> str:
    """Event lines with each clip's channels (``AA/V`` when it has sound) instead of the ``V``
    the CMX adapter always writes (it emits the first video track only), so an editor importing
    the EDL gets the clips' audio. The event line layout is the adapter's fixed one; should a
    future adapter write other lines, the EDL stays as written (video events) rather than fail
    the render."""
    lines = text.split("\n")
    events = [(i, match) for i, line in enumerate(lines) if (match := _EVENT_LINE.match(line))]
    if len(events) != len(channels):
        log.warning(
            "EDL audio channels not added: %d event lines for %d expected",
            len(events),
            len(channels),
        )
        return text
    for (index, match), channel in zip(events, channels, strict=True):
        lines[index] = f"{match['head']}{channel:<5} {match['tail']}"
    return "\n".join(lines)


def fcp7_xml_text(
    entries: Sequence[ReelEntry], *, fps: float, title: str, clip_ids: Sequence[str] = ()
) -> str:
    """Final Cut Pro 7 XML (xmeml) of the reel, for Premiere, Resolve and Final Cut Pro 7."""
    return _write(reel_timeline(entries, fps=fps, title=title, clip_ids=clip_ids), FCP7_ADAPTER)


def otio_text(
    entries: Sequence[ReelEntry], *, fps: float, title: str, clip_ids: Sequence[str] = ()
) -> str:
    """The reel as an OpenTimelineIO JSON document (``.otio``)."""
    return _write(reel_timeline(entries, fps=fps, title=title, clip_ids=clip_ids), OTIO_ADAPTER)


def _write(timeline: otio.schema.Timeline, adapter: str, **options: object) -> str:
    try:
        return str(otio.adapters.write_to_string(timeline, adapter, **options))
    except otio.exceptions.OTIOError as exc:
        raise RenderError(f"cannot write the {adapter} timeline: {exc}") from exc
