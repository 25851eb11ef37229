"""Sidecar subtitles: finding, parsing (SRT and WebVTT, tolerant) and writing SRT.

Parsing tolerates a UTF-8 BOM, CRLF line ends, missing or non-numeric cue ids, ``,`` or ``.``
before the milliseconds, optional hours, VTT cue settings, HTML/ASS tags and entities. Cue text
lines are joined with a space. An empty file gives no cues; a non-empty file without a single
valid cue (or an unreadable one) raises a one-line :class:`MediaError`.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scenespark.errors import MediaError

SUBTITLE_EXTENSIONS = (".srt", ".vtt")
PREFERRED_LANGS = ("en", "eng", "en-us", "en-gb")

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[,.](\d{1,3}))?"
_TIMING_RE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}(?:\s+.*)?$")
_TAG_RE = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float
    end_s: float
    text: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def find_sidecar(video: Path) -> Path | None:
    """``video.srt`` / ``video.vtt``, else ``video.<lang>.srt|vtt`` (English first)."""
    video = Path(video)
    folder, stem = video.parent, video.stem
    for ext in SUBTITLE_EXTENSIONS:
        for candidate in (folder / f"{stem}{ext}", folder / f"{stem}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    try:
        entries = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError:
        return None
    tagged: list[tuple[int, str, Path]] = []
    for entry in entries:
        if entry.suffix.lower() not in SUBTITLE_EXTENSIONS or not entry.name.startswith(stem + "."):
            continue
        middle = entry.name[len(stem) + 1 : -len(entry.suffix)]
        if not middle or "." in middle or len(middle) > 12:
            continue
        rank = 0 if middle.lower() in PREFERRED_LANGS else 1
        tagged.append((rank, middle.lower(), entry))
    return min(tagged)[2] if tagged else None


def _seconds(h: str | None, m: str, s: str, ms: str | None) -> float:
    millis = int((ms or "0").ljust(3, "0")[:3])
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + millis / 1000.0


def clean_text(text: str) -> str:
    return _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub("", text))).strip()


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MediaError(f"not a subtitle file (binary data): {path}")
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-16" and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        return text
    return raw.decode("latin-1")


def parse_subtitle_text(text: str, *, source: str = "<text>") -> list[Cue]:
    """Cues from SRT or WebVTT text, sorted by start time."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    cues: list[Cue] = []
    i = 0
    while i < len(lines):
        match = _TIMING_RE.match(lines[i])
        if not match:
            i += 1
            continue
        g = match.groups()
        start_s, end_s = _seconds(*g[0:4]), _seconds(*g[4:8])
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip():
            if _TIMING_RE.match(lines[i]):
                break
            body.append(lines[i])
            i += 1
        # A numeric id right before the next timing line belongs to the next cue.
        if body and body[-1].strip().isdigit() and i < len(lines) and _TIMING_RE.match(lines[i]):
            body.pop()
        cue_text = clean_text(" ".join(body))
        if cue_text and end_s > start_s:
            cues.append(Cue(start_s=start_s, end_s=end_s, text=cue_text))
    nonblank = [ln for ln in lines if ln.strip() and ln.strip().upper() != "WEBVTT"]
    if not cues and nonblank:
        raise MediaError(f"no subtitle cues found in {source}")
    cues.sort(key=lambda c: (c.start_s, c.end_s))
    return cues


def parse_subtitles(path: Path) -> list[Cue]:
    """Parse an .srt or .vtt file (see module doc for what is tolerated)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise MediaError(f"no such subtitle file: {path}") from exc
    except OSError as exc:
        raise MediaError(f"cannot read subtitle file {path}: {exc.strerror or exc}") from exc
    return parse_subtitle_text(_decode(raw, path), source=str(path))


def format_srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm`` (negative times clamp to zero)."""
    millis = max(0, round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def format_srt(cues: Iterable[Cue]) -> str:
    blocks = []
    for n, cue in enumerate(cues, start=1):
        blocks.append(
            f"{n}\n{format_srt_time(cue.start_s)} --> {format_srt_time(cue.end_s)}\n{cue.text}\n"
        )
    return "\n".join(blocks)


def write_srt(cues: Iterable[Cue], path: Path) -> Path:
    """Write cues as SRT (UTF-8), atomically (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".srt", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(format_srt(cues))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
