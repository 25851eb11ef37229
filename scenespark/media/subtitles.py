"""Sidecar subtitles: finding, parsing (SRT, WebVTT, ASS/SSA through pysubs2) and writing SRT.

Parsing tolerates a UTF-8 BOM, CRLF line ends, missing or non-numeric cue ids, ``,`` or ``.``
before the milliseconds, optional hours, VTT cue settings, HTML/ASS tags and entities, and the
legacy Chinese encodings (GB18030/GBK, Big5) many Chinese subtitle files still use. Cue text lines
are joined with a space (none between two CJK characters). An empty file gives no cues; a
non-empty file without a single valid cue (or an unreadable one) raises a one-line
:class:`MediaError`.

Sidecars are ``video.srt`` (``.vtt``, ``.ass``, ``.ssa``) or ``video.<lang>.<ext>`` with a
language tag such as ``en``, ``zh``, ``zh-CN``, ``chs``; :func:`find_sidecar` is the one place
that looks for them.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pysubs2

from scenespark.errors import MediaError
from scenespark.language.rules import language_code
from scenespark.language.scripts import CJK_PUNCT, UNSPACED_RE, dominant_language, has_cjk

SUBTITLE_EXTENSIONS = (".srt", ".vtt", ".ass", ".ssa")
PREFERRED_LANGS = ("en", "eng", "en-us", "en-gb")
_TAG_RE = re.compile(r"<[^>]*>|\{\\[^}]*\}")
_SPACE_RE = re.compile(r"\s+")
# a space between two characters of scripts written without spaces is a line join, not a word gap
_CJK_GAP_RE = re.compile(f"(?<=[{CJK_PUNCT}]|{UNSPACED_RE.pattern}) (?={UNSPACED_RE.pattern})")


@dataclass(frozen=True, slots=True)
class Cue:
    start_s: float
    end_s: float
    text: str

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def sidecar_language(video: Path, sidecar: Path) -> str:
    """The language a sidecar's file name declares ("video.zh-CN.srt" → "zh"), "" if none."""
    stem = Path(video).stem
    name = Path(sidecar).name
    if not name.startswith(stem + "."):
        return ""
    return language_code(name[len(stem) + 1 : -len(Path(sidecar).suffix)])


def cue_language(cues: Sequence[Cue]) -> str:
    """The language of cue text when its script tells it ("zh", "ja", "ko"); "" otherwise."""
    language = dominant_language(" ".join(c.text for c in cues[:200]), default="")
    return language


def find_sidecar(video: Path, preferred_languages: Sequence[str] = ()) -> Path | None:
    """The subtitle file beside ``video``: ``video.srt|vtt|ass|ssa`` first, else
    ``video.<lang>.<ext>`` — a language in ``preferred_languages`` first, then English, then
    the others by name. This is the one place that decides which file is read."""
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
    wanted = [language_code(code) or code.lower() for code in preferred_languages if code]
    tagged: list[tuple[int, int, str, Path]] = []
    for entry in entries:
        suffix = entry.suffix.lower()
        if suffix not in SUBTITLE_EXTENSIONS or not entry.name.startswith(stem + "."):
            continue
        middle = entry.name[len(stem) + 1 : -len(entry.suffix)]
        if not middle or "." in middle or len(middle) > 12:
            continue
        language = language_code(middle)
        if language in wanted:
            rank = wanted.index(language)
        elif middle.lower() in PREFERRED_LANGS or language == "en":
            rank = len(wanted)
        else:
            rank = len(wanted) + 1
        tagged.append((rank, SUBTITLE_EXTENSIONS.index(suffix), middle.lower(), entry))
    return min(tagged)[3] if tagged else None


def clean_text(text: str) -> str:
    text = _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub("", text))).strip()
    return _CJK_GAP_RE.sub("", text) if has_cjk(text) else text


def _cjk_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if UNSPACED_RE.match(ch)) / max(1, len(letters))


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise MediaError(f"not a subtitle file (binary data): {path}")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # legacy Chinese encodings decode almost any bytes: accept them when they give Han text
    for encoding in ("gb18030", "big5"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _cjk_share(text) >= 0.3:
            return text
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_subtitle_text(text: str, *, source: str = "<text>") -> list[Cue]:
    """Cues from SRT, WebVTT or ASS/SSA text (pysubs2), sorted by start time."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    nonblank = [ln for ln in text.split("\n") if ln.strip() and ln.strip().upper() != "WEBVTT"]
    try:
        events = pysubs2.SSAFile.from_string(text).events
    except pysubs2.exceptions.FormatAutodetectionError:
        events = []
    except (pysubs2.exceptions.Pysubs2Error, ValueError, KeyError, IndexError) as exc:
        raise MediaError(f"cannot parse subtitles in {source}: {exc}") from exc
    cues: list[Cue] = []
    for event in events:
        if event.is_comment or event.is_drawing:
            continue
        start_s, end_s = event.start / 1000.0, event.end / 1000.0
        # ASS line breaks and hard spaces; override tags ("{\\i1}") go in clean_text, while
        # braces without a backslash are text (an SRT may say "{laughs}")
        cue_text = clean_text(re.sub(r"\\[Nnh]", " ", event.text))
        if cue_text and end_s > start_s:
            cues.append(Cue(start_s=start_s, end_s=end_s, text=cue_text))
    if not cues and nonblank:
        raise MediaError(f"no subtitle cues found in {source}")
    cues.sort(key=lambda c: (c.start_s, c.end_s))
    return cues


def parse_subtitles(path: Path) -> list[Cue]:
    """Parse an .srt, .vtt, .ass or .ssa file (see module doc for what is tolerated)."""
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
    """SRT text of ``cues`` (pysubs2's writer; times to the millisecond, negatives clamp)."""
    subs = pysubs2.SSAFile()
    for cue in cues:
        event = pysubs2.SSAEvent(
            start=max(0, round(cue.start_s * 1000)), end=max(0, round(cue.end_s * 1000))
        )
        event.plaintext = cue.text
        subs.events.append(event)
    # the cue text is plain: ``keep_ssa_tags`` writes braces verbatim instead of reading them
    # as ASS override tags
    return subs.to_string("srt", keep_ssa_tags=True)


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
