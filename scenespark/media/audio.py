"""Audio extraction for speech recognition."""

from __future__ import annotations

import os
from pathlib import Path

from scenespark.errors import MediaError
from scenespark.media.ffmpeg import ffmpeg


def extract_audio_wav(
    video: Path, out_wav: Path, *, sample_rate: int = 16000, timeout_s: float = 600.0
) -> Path:
    """Mono 16-bit PCM WAV of the first audio stream (written atomically), on the video's clock.

    Audio streams of concatenated or re-muxed files often have timestamp gaps; a plain decode
    drops them and every later sample comes early (0.7 s after 2 minutes on a real file), so
    ``aresample=async`` fills gaps with silence and ``first_pts=0`` pads a late start.

    Raises :class:`MediaError` when the file has no audio stream or ffmpeg fails.
    """
    video, out_wav = Path(video), Path(out_wav)
    if not video.is_file():
        raise MediaError(f"no such file: {video}")
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_wav.with_name(f".tmp-{os.getpid()}-{out_wav.name}")
    try:
        ffmpeg(
            [
                "-i",
                video,
                "-map",
                "0:a:0",
                "-vn",
                "-sn",
                "-dn",
                "-af",
                "aresample=async=1:first_pts=0",
                "-ac",
                "1",
                "-ar",
                str(sample_rate),
                "-c:a",
                "pcm_s16le",
                "-f",
                "wav",
                tmp,
            ],
            timeout_s=timeout_s,
            what=f"audio extraction from {video.name}",
        )
    except MediaError as exc:
        tmp.unlink(missing_ok=True)
        if "matches no streams" in str(exc):
            raise MediaError(f"no audio stream in {video}") from exc
        raise
    os.replace(tmp, out_wav)
    return out_wav
