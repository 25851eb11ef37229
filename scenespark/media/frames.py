"""Decoding video frames with PyAV or decord behind one small interface.

``FrameReader.iter_frames`` yields :class:`DecodedFrame` objects in presentation order. Each has a
tiny RGB ``small`` image (computed for every yielded frame: shot and change detection use it) and
lazy accessors ``image(max_side)`` / ``gray(max_side)`` that convert the decoded picture only when
asked — converting every 720p frame to RGB would cost more than decoding it.

* ``pyav`` (default): FFmpeg through PyAV with frame threading; tiny images come from swscale's
  area filter straight from YUV. Holds a reference to the decoded frame until released.
* ``decord``: decord's VideoReader decoding RGB at ``decode_max_side`` (its only mode); frames not
  yielded (``every_s``) are skipped without RGB conversion.

Times are seconds from the first frame of the stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from scenespark.errors import ConfigError, MediaError
from scenespark.media.probe import normalise_rotation

ReaderName = Literal["pyav", "decord"]
DEFAULT_SMALL_SIZE: tuple[int, int] = (64, 36)


def fit_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """(w, h) scaled down to fit ``max_side`` (never up), both even and >= 2."""
    scale = min(1.0, max_side / float(max(width, height, 1)))
    w = max(2, round(width * scale / 2) * 2)
    h = max(2, round(height * scale / 2) * 2)
    return w, h


@dataclass
class DecodedFrame:
    """One decoded frame: index in the stream, time, tiny RGB image and lazy conversions."""

    index: int
    time_s: float
    small: np.ndarray  # (h, w, 3) RGB uint8, e.g. 36x64
    width: int
    height: int
    _rgb: Callable[[int, int], np.ndarray] | None = field(default=None, repr=False)
    _gray: Callable[[int, int], np.ndarray] | None = field(default=None, repr=False)

    def image(self, max_side: int = 640) -> np.ndarray:
        """RGB uint8 (H, W, 3) no larger than ``max_side`` (converted on demand)."""
        if self._rgb is None:
            raise MediaError("frame data was released")
        w, h = fit_size(self.width, self.height, max_side)
        return self._rgb(w, h)

    def gray(self, max_side: int = 320) -> np.ndarray:
        """Grey uint8 (H, W) no larger than ``max_side``."""
        if self._gray is None:
            raise MediaError("frame data was released")
        w, h = fit_size(self.width, self.height, max_side)
        return self._gray(w, h)

    def release(self) -> None:
        """Drop the reference to the full decoded picture (``small`` stays)."""
        self._rgb = None
        self._gray = None


class FrameReader(Protocol):
    name: str

    def iter_frames(
        self,
        path: Path,
        *,
        every_s: float | None = None,
        small_size: tuple[int, int] = DEFAULT_SMALL_SIZE,
        decode_max_side: int = 1280,
    ) -> Iterator[DecodedFrame]:
        """Frames in order; ``every_s=None`` yields every frame, else the first frame at or
        after each multiple of ``every_s``. ``decode_max_side`` is a hint: readers that must
        convert every frame (decord) decode at that size; ``image()`` never exceeds it there."""
        ...


class _Grid:
    """Selects the first frame at/after each multiple of ``every_s``."""

    def __init__(self, every_s: float | None) -> None:
        self.every_s = every_s
        self.next_s = 0.0

    def take(self, time_s: float) -> bool:
        if self.every_s is None:
            return True
        if time_s + 1e-6 < self.next_s:
            return False
        self.next_s = (math.floor(time_s / self.every_s + 1e-6) + 1) * self.every_s
        return True


class PyAVReader:
    name = "pyav"

    def iter_frames(
        self,
        path: Path,
        *,
        every_s: float | None = None,
        small_size: tuple[int, int] = DEFAULT_SMALL_SIZE,
        decode_max_side: int = 1280,
    ) -> Iterator[DecodedFrame]:
        import av

        path = Path(path)
        try:
            container = av.open(str(path))
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"cannot open video {path}: {exc}") from exc
        try:
            if not container.streams.video:
                raise MediaError(f"no video stream in {path}")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            base = stream.time_base
            start_pts = stream.start_time
            rate = float(stream.average_rate or stream.guessed_rate or 25.0)
            grid = _Grid(every_s)
            formatters = _Reformatters()
            index = -1
            errors = 0
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    errors += 1
                    if errors > 50:
                        raise MediaError(
                            f"too many decode errors in {path} (corrupt video)"
                        ) from None
                    continue
                for frame in frames:
                    index += 1
                    if frame.pts is not None and base is not None:
                        time_s = float((frame.pts - (start_pts or 0)) * base)
                    else:
                        time_s = index / rate
                    if not grid.take(time_s):
                        continue
                    yield _pyav_frame(frame, index, max(0.0, time_s), small_size, formatters)
            if index < 0:
                raise MediaError(f"no decodable video frames in {path}")
        except av.error.FFmpegError as exc:
            raise MediaError(f"decoding failed for {path}: {exc}") from exc
        finally:
            container.close()


class _Reformatters:
    """One swscale context per (format, size), reused across frames (creating one per frame
    costs more than the conversion itself)."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, int, int], Any] = {}

    def convert(self, frame: Any, fmt: str, width: int, height: int) -> np.ndarray:
        from av.video.reformatter import VideoReformatter

        key = (fmt, width, height)
        formatter = self._by_key.get(key)
        if formatter is None:
            formatter = self._by_key[key] = VideoReformatter()
        out = formatter.reformat(
            frame, format=fmt, width=width, height=height, interpolation="AREA"
        )
        return out.to_ndarray()


def _pyav_frame(
    frame: Any, index: int, time_s: float, small_size: tuple[int, int], formatters: _Reformatters
) -> DecodedFrame:
    """A decoded frame as displayed: a phone video's display rotation is applied."""
    turns = normalise_rotation(float(getattr(frame, "rotation", 0) or 0)) // 90
    sideways = turns % 2 == 1

    def convert(fmt: str, w: int, h: int) -> np.ndarray:
        if not turns:
            return formatters.convert(frame, fmt, w, h)
        coded = formatters.convert(frame, fmt, *((h, w) if sideways else (w, h)))
        return np.ascontiguousarray(np.rot90(coded, turns))

    width, height = (frame.height, frame.width) if sideways else (frame.width, frame.height)
    return DecodedFrame(
        index=index,
        time_s=time_s,
        small=convert("rgb24", small_size[0], small_size[1]),
        width=width,
        height=height,
        _rgb=lambda w, h: convert("rgb24", w, h),
        _gray=lambda w, h: convert("gray", w, h),
    )


class DecordReader:
    name = "decord"

    def iter_frames(
        self,
        path: Path,
        *,
        every_s: float | None = None,
        small_size: tuple[int, int] = DEFAULT_SMALL_SIZE,
        decode_max_side: int = 1280,
    ) -> Iterator[DecodedFrame]:
        import cv2
        import decord

        path = Path(path)
        try:
            probe = decord.VideoReader(str(path), ctx=decord.cpu(0))
            src_h, src_w = probe.next().shape[:2]
            del probe
            w, h = fit_size(src_w, src_h, decode_max_side)
            reader = decord.VideoReader(
                str(path), ctx=decord.cpu(0), width=w, height=h, num_threads=2
            )
            count = len(reader)
            stamps = reader.get_frame_timestamp(np.arange(count))[:, 0] if count else np.zeros(0)
        except (decord.DECORDError, RuntimeError, IndexError, StopIteration) as exc:
            raise MediaError(f"cannot open video {path} with decord: {exc}") from exc
        if count == 0:
            raise MediaError(f"no decodable video frames in {path}")
        offset = float(stamps[0])
        grid = _Grid(every_s)
        for index in range(count):
            time_s = max(0.0, float(stamps[index]) - offset)
            if not grid.take(time_s):
                reader.skip_frames(1)
                continue
            try:
                rgb = reader.next().asnumpy()
            except (decord.DECORDError, StopIteration) as exc:
                if index == 0:
                    raise MediaError(f"no decodable video frames in {path}") from exc
                return
            small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
            yield DecodedFrame(
                index=index,
                time_s=time_s,
                small=small,
                width=w,
                height=h,
                _rgb=_resizer(rgb),
                _gray=_resizer(rgb, gray=True),
            )


def _resizer(rgb: np.ndarray, *, gray: bool = False) -> Callable[[int, int], np.ndarray]:
    def convert(w: int, h: int) -> np.ndarray:
        import cv2

        out = (
            rgb
            if (w, h) == (rgb.shape[1], rgb.shape[0])
            else cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        )
        return cv2.cvtColor(out, cv2.COLOR_RGB2GRAY) if gray else out

    return convert


def get_frame_reader(name: str = "pyav") -> FrameReader:
    """``"pyav"`` or ``"decord"``."""
    if name == "pyav":
        return PyAVReader()
    if name == "decord":
        return DecordReader()
    raise ConfigError(f"unknown frame reader '{name}' (use 'pyav' or 'decord')")


def iter_frames(
    path: Path,
    *,
    every_s: float | None = None,
    small_size: tuple[int, int] = DEFAULT_SMALL_SIZE,
    reader: str | FrameReader = "pyav",
    decode_max_side: int = 1280,
) -> Iterator[DecodedFrame]:
    """Convenience wrapper: frames of ``path`` with the named reader."""
    impl = get_frame_reader(reader) if isinstance(reader, str) else reader
    return impl.iter_frames(
        path, every_s=every_s, small_size=small_size, decode_max_side=decode_max_side
    )
