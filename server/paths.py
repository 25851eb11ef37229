"""Path checks for paths that come from HTTP requests.

A path given to the API must resolve (after following every symlink) inside one of the configured
library roots; a media file must resolve inside the data dir's ``media/`` folder. Containment is
checked before existence, so the API never tells whether a file outside the roots exists.
"""

from __future__ import annotations

from pathlib import Path

from scenespark.config import Settings
from scenespark.errors import InvalidInputError, NotFoundError, PathNotAllowedError

NO_ROOTS_HINT = "set SCENESPARK_LIBRARY_ROOTS to the folders the server may index from"
MAX_PATH_BYTES = 4095  # PATH_MAX (4096) less the terminating NUL
MAX_NAME_BYTES = 255  # NAME_MAX: one file or folder name


def _check_text(raw: str) -> str:
    """The stripped path text, refused (400) when empty, with a NUL, or longer than the OS allows."""
    text = raw.strip()
    if not text:
        raise InvalidInputError("the path is empty")
    if "\x00" in text:
        raise InvalidInputError("the path contains a NUL character")
    encoded = text.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_PATH_BYTES:
        raise InvalidInputError(f"the path is longer than {MAX_PATH_BYTES} bytes")
    if any(len(part) > MAX_NAME_BYTES for part in encoded.split(b"/")):
        raise InvalidInputError(f"a name in the path is longer than {MAX_NAME_BYTES} bytes")
    return text


def _real(path: Path, shown: str) -> Path:
    """``path`` with every symlink followed; an unresolvable path is 400, never a 500."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:  # symlink loop, name too long, unreadable component
        raise InvalidInputError(f"cannot resolve path {shown!r}: {exc.strerror or exc}") from exc


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # e.g. ENAMETOOLONG once joined to a root
        return False


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def display_path(path: Path | str, settings: Settings) -> str:
    """``path`` relative to a library root or the data dir, for messages; else its name only."""
    real = Path(path)
    for base in [*settings.resolved_roots(), settings.home]:
        try:
            return str(real.relative_to(base))
        except ValueError:
            continue
    return real.name


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def relative_paths(text: str, settings: Settings) -> str:
    """``text`` with absolute paths under a library root or the data dir made relative to it."""
    bases = {str(b) for b in [*settings.resolved_roots(), settings.home, settings.home.resolve()]}
    for base in sorted(bases, key=len, reverse=True):  # the deepest base first
        if base and base != "/":
            text = text.replace(base.rstrip("/") + "/", "")
    return text


def resolve_library_path(raw: str, settings: Settings) -> Path:
    """The real path of ``raw`` if it is a file inside a library root.

    Relative paths are taken relative to each root in turn. Raises PathNotAllowedError (403) for
    anything that escapes the roots (``..``, absolute paths elsewhere, symlinks pointing out),
    NotFoundError (404) when an allowed path does not exist.
    """
    text = _check_text(raw)
    roots = settings.resolved_roots()
    if not roots:
        raise PathNotAllowedError(
            "the server indexes paths only inside configured library roots, and none are set",
            hint=NO_ROOTS_HINT,
        )
    given = Path(text).expanduser()
    candidates = [given] if given.is_absolute() else [root / given for root in roots]
    allowed: list[Path] = []
    for candidate in candidates:
        real = _real(candidate, text)
        if any(_inside(real, root) for root in roots):
            allowed.append(real)
    if not allowed:
        raise PathNotAllowedError(
            f"path {text!r} is outside the library roots",
            hint="only files inside SCENESPARK_LIBRARY_ROOTS can be indexed through the API",
        )
    for real in allowed:
        if _is_file(real):
            return real
    for real in allowed:
        if _is_dir(real):
            raise InvalidInputError(f"path {text!r} is a folder; give the path of a video file")
    raise NotFoundError(f"no file at {text!r} inside the library roots")


def resolve_local_path(raw: str) -> Path:
    """The real path of a file named by a trusted local client (the ``scenespark`` CLI).

    No library-root check: the client proved it can read the data dir (see ``LOCAL_TOKEN_NAME``
    in ``server.runtime``). Missing → 404, folder → 400.
    """
    text = _check_text(raw)
    real = _real(Path(text).expanduser(), text)
    if _is_dir(real):
        raise InvalidInputError(f"path {text!r} is a folder; give the path of a video file")
    if not _is_file(real):
        raise NotFoundError(f"no file at {text!r}")
    return real


def resolve_media_file(relpath: str, settings: Settings) -> Path:
    """The real path of a generated media file (``media/...`` relative to the data dir).

    Accepts the path with or without the leading ``media/``. Escapes → 403, missing → 404.
    """
    text = _check_text(relpath).lstrip("/")
    media_root = settings.media_dir.resolve()
    home = settings.home.resolve()
    base = home if text == "media" or text.startswith("media/") else media_root
    real = _real(base / text, text)
    if not real.is_relative_to(media_root):
        raise PathNotAllowedError(f"{relpath!r} is not a media file of this server")
    if not _is_file(real):
        raise NotFoundError(f"no media file {relpath!r}")
    return real
