"""Synthetic test media: speech with espeak-ng/flite, videos from lavfi sources or still images
with burnt-in text and placed narration, and the demo library used by ``make run``.

Everything is generated on the fly with real tools (ffmpeg, espeak-ng, flite); ``SynthTruth``
records exactly where each cut, caption and narration lies, so tests can check against it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from scenespark.errors import ConfigError, MediaError
from scenespark.language.scripts import has_cjk
from scenespark.media.ffmpeg import ffmpeg, require_tool, run_tool

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
AUDIO_RATE = 44100
NARRATION_OFFSET_S = 0.3


@dataclass
class SynthScene:
    duration_s: float
    source: str = "testsrc2"  # lavfi source spec ("color=c=navy", "mandelbrot", ...) or image path
    text: str | None = None  # burnt-in caption
    text_start_s: float = 0.0  # caption window, relative to the scene start
    text_end_s: float | None = None  # None = end of scene
    narration: str | None = None
    narration_offset_s: float = NARRATION_OFFSET_S  # relative to the scene start
    zoom: bool = False  # slow zoom (still images only)
    text_position: Literal["center", "bottom", "top"] = "center"


@dataclass
class TextWindow:
    text: str
    start_s: float
    end_s: float


@dataclass
class NarrationSpan:
    text: str
    start_s: float
    end_s: float  # placed start + length of the synthesised wav (which has short silences)


@dataclass
class SynthTruth:
    duration_s: float
    fps: int
    size: tuple[int, int]
    scene_starts_s: list[float]
    cuts_s: list[float]  # scene starts except 0
    texts: list[TextWindow] = field(default_factory=list)
    narrations: list[NarrationSpan] = field(default_factory=list)
    has_audio: bool = True


def font_path(bold: bool = True) -> str:
    """DejaVu Sans (via fc-match), used for burnt-in captions."""
    pattern = "DejaVu Sans:bold" if bold else "DejaVu Sans"
    try:
        out = (
            subprocess.run(
                ["fc-match", "-f", "%{file}", pattern], capture_output=True, timeout=10, check=False
            )
            .stdout.decode()
            .strip()
        )
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    if out and Path(out).is_file():
        return out
    fallback = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
    if fallback.is_file():
        return str(fallback)
    raise ConfigError("no DejaVu Sans font found", hint="apt-get install fonts-dejavu-core")


def cjk_font_path() -> str:
    """A font with Chinese glyphs (WenQuanYi Zen Hei, via fc-match) for CJK captions."""
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", "WenQuanYi Zen Hei:lang=zh-cn"],
            capture_output=True,
            timeout=10,
            check=False,
        ).stdout.decode()
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for candidate in (out.strip(), "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"):
        if candidate and Path(candidate).is_file() and "wqy" in candidate.lower():
            return candidate
    raise ConfigError("no CJK font found", hint="apt-get install fonts-wqy-zenhei")


def wav_duration_s(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        return handle.getnframes() / float(handle.getframerate())


def tts_to_wav(
    text: str,
    out: Path,
    *,
    engine: Literal["espeak-ng", "flite"] = "espeak-ng",
    voice: str | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Synthesise ``text`` to a WAV file with espeak-ng or flite."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if engine == "flite":
        args: list[str | Path] = ["flite", "-t", text, "-o", out]
        if voice:
            args[1:1] = ["-voice", voice]
    elif engine == "espeak-ng":
        args = ["espeak-ng", "-w", out, "-s", "160", "-v", voice or "en-us", "--", text]
    else:
        raise ConfigError(f"unknown TTS engine '{engine}'")
    run_tool(args, timeout_s=timeout_s, error_cls=MediaError, what=engine)
    if not out.is_file() or out.stat().st_size < 100:
        raise MediaError(f"{engine} produced no audio for {text[:40]!r}")
    return out


def _escape_filter_path(path: Path) -> str:
    return str(path).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")


def _video_input(scene: SynthScene, size: tuple[int, int], fps: int) -> tuple[list[str], str]:
    """(input args, filter applied to this input) for one scene."""
    w, h = size
    src = scene.source
    is_image = Path(src).suffix.lower() in IMAGE_EXTENSIONS and Path(src).is_file()
    frames = round(scene.duration_s * fps)
    if is_image:
        cover = f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1"
        if scene.zoom:
            big = f"scale={w * 4}:{h * 4}:force_original_aspect_ratio=increase,crop={w * 4}:{h * 4}"
            zoom = (
                f"zoompan=z='1+0.12*on/{max(1, frames)}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
                f":d={frames}:s={w}x{h}:fps={fps},setsar=1"
            )
            return ["-i", src], f"{big},{zoom}"
        return [
            "-loop",
            "1",
            "-framerate",
            str(fps),
            "-t",
            f"{scene.duration_s:.3f}",
            "-i",
            src,
        ], cover
    spec = (
        src
        if ("size=" in src or ":s=" in src or "=s=" in src)
        else (f"{src}{':' if '=' in src else '='}size={w}x{h}:rate={fps}")
    )
    return ["-f", "lavfi", "-t", f"{scene.duration_s:.3f}", "-i", spec], f"scale={w}:{h},setsar=1"


def build_video(
    out: Path,
    scenes: list[SynthScene],
    *,
    size: tuple[int, int] = (640, 360),
    fps: int = 25,
    with_audio: bool = True,
    tts_engine: Literal["espeak-ng", "flite"] = "espeak-ng",
    voice: str | None = None,
    timeout_s: float = 180.0,
) -> SynthTruth:
    """Render scenes back to back (hard cuts) into an H.264/AAC mp4; returns the ground truth.

    Scene durations are rounded to whole frames so cut times are exact frame times.
    """
    if not scenes:
        raise MediaError("build_video needs at least one scene")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _w, h = size
    font = font_path()
    durations = [round(s.duration_s * fps) / fps for s in scenes]
    starts = [sum(durations[:i]) for i in range(len(scenes))]
    total_s = sum(durations)
    truth = SynthTruth(
        duration_s=total_s,
        fps=fps,
        size=size,
        scene_starts_s=starts,
        cuts_s=starts[1:],
        has_audio=with_audio,
    )
    with tempfile.TemporaryDirectory(prefix="scenespark-synth-") as tmp_name:
        tmp = Path(tmp_name)
        inputs: list[str] = []
        chains: list[str] = []
        for i, (scene, dur) in enumerate(zip(scenes, durations, strict=True)):
            fixed = SynthScene(**{**scene.__dict__, "duration_s": dur})
            args, base = _video_input(fixed, size, fps)
            inputs += args
            n_frames = round(dur * fps)
            chain = (
                f"[{i}:v]{base},setpts=PTS-STARTPTS,fps={fps},format=yuv420p,"
                f"tpad=stop_mode=clone:stop={n_frames},trim=end_frame={n_frames},setpts=PTS-STARTPTS"
            )
            if scene.text:
                text_file = tmp / f"text{i}.txt"
                text_file.write_text(scene.text, encoding="utf-8")
                t0 = max(0.0, scene.text_start_s)
                t1 = dur if scene.text_end_s is None else min(dur, scene.text_end_s)
                y = {"center": "(h-text_h)/2", "bottom": "h-text_h-h/10", "top": "h/10"}[
                    scene.text_position
                ]
                scene_font = cjk_font_path() if has_cjk(scene.text) else font
                chain += (
                    f",drawtext=fontfile='{_escape_filter_path(Path(scene_font))}'"
                    f":textfile='{_escape_filter_path(text_file)}':fontsize={max(12, h // 11)}"
                    f":fontcolor=white:box=1:boxcolor=black@0.75:boxborderw={max(4, h // 40)}"
                    f":x=(w-text_w)/2:y={y}:enable='between(t,{t0:.3f},{t1:.3f})'"
                )
                truth.texts.append(TextWindow(scene.text, starts[i] + t0, starts[i] + t1))
            chains.append(chain + f"[v{i}]")
        n = len(scenes)
        graph = [*chains, "".join(f"[v{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[vout]"]
        audio_inputs: list[str] = []
        if with_audio:
            base_index = n
            audio_inputs += [
                "-f",
                "lavfi",
                "-t",
                f"{total_s:.3f}",
                "-i",
                f"anullsrc=r={AUDIO_RATE}:cl=mono",
            ]
            mix = [f"[{base_index}:a]"]
            k = 1
            for i, scene in enumerate(scenes):
                if not scene.narration:
                    continue
                wav = tts_to_wav(
                    scene.narration, tmp / f"speech{i}.wav", engine=tts_engine, voice=voice
                )
                start_s = starts[i] + max(0.0, scene.narration_offset_s)
                length_s = wav_duration_s(wav)
                truth.narrations.append(
                    NarrationSpan(scene.narration, start_s, min(total_s, start_s + length_s))
                )
                audio_inputs += ["-i", str(wav)]
                delay_ms = round(start_s * 1000)
                graph.append(
                    f"[{base_index + k}:a]aresample={AUDIO_RATE},aformat=channel_layouts=mono,"
                    f"adelay={delay_ms}:all=1[a{k}]"
                )
                mix.append(f"[a{k}]")
                k += 1
            graph.append("".join(mix) + f"amix=inputs={len(mix)}:duration=first:normalize=0[aout]")
        tmp_out = out.with_name(f".tmp-{os.getpid()}-{out.name}")
        cmd: list[str] = [
            *inputs,
            *audio_inputs,
            "-filter_complex",
            ";".join(graph),
            "-map",
            "[vout]",
        ]
        if with_audio:
            cmd += ["-map", "[aout]", "-c:a", "aac", "-b:a", "96k"]
        cmd += [
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-r",
            str(fps),
            "-t",
            f"{total_s:.3f}",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            str(tmp_out),
        ]
        try:
            ffmpeg(cmd, timeout_s=timeout_s, what=f"synth video {out.name}")
        except BaseException:
            tmp_out.unlink(missing_ok=True)
            raise
        os.replace(tmp_out, out)
    return truth


def still_image(
    out: Path,
    source: str = "testsrc2",
    *,
    size: tuple[int, int] = (640, 360),
    timeout_s: float = 60.0,
) -> Path:
    """One PNG frame of a lavfi source (e.g. for still-image and zoom scenes)."""
    w, h = size
    spec = f"{source}{':' if '=' in source else '='}size={w}x{h}"
    ffmpeg(
        ["-f", "lavfi", "-i", spec, "-frames:v", "1", str(out)],
        timeout_s=timeout_s,
        what="still image",
    )
    return Path(out)


# ------------------------------------------------------------------------------------------
# Demo library
# ------------------------------------------------------------------------------------------


def _demo_specs() -> dict[str, list[SynthScene]]:
    launch = [
        SynthScene(
            8.0,
            "color=c=0x1b2a4a",
            "Nova X1 launch event",
            narration=("Welcome to the launch of the Nova X one, our new lightweight laptop."),
        ),
        SynthScene(
            9.0,
            "smptebars",
            "Price: 899 dollars",
            text_position="bottom",
            narration=("The base model costs eight hundred and ninety nine dollars."),
        ),
        SynthScene(
            9.0,
            "color=c=0x3a1b4a",
            "Shipping March 14",
            narration=("Shipping starts on March fourteenth in Europe and North America."),
        ),
        SynthScene(
            9.0,
            "testsrc2",
            "Battery: 18 hours",
            text_position="bottom",
            narration=("The battery lasts eighteen hours of video playback."),
        ),
        SynthScene(
            8.0,
            "color=c=black",
            "Questions? hello@nova.example",
            narration=("Thank you for watching. Send your questions to our team."),
        ),
    ]
    nature = [
        SynthScene(
            9.0,
            "color=c=0x2e7d32",
            "Forest trail",
            text_position="top",
            narration=(
                "We start our nature walk on a quiet forest trail full of tall green trees."
            ),
        ),
        SynthScene(
            9.0,
            "mandelbrot",
            narration=(
                "Look at these strange swirling patterns, like a flower opening in slow motion."
            ),
        ),
        SynthScene(
            9.0,
            "color=c=0x0277bd",
            "Blue lake",
            text_position="bottom",
            narration=("Next we reach a calm blue lake where ducks swim near the shore."),
        ),
        SynthScene(
            9.0,
            "life=mold=10:life_color=0x66bb6a:death_color=0x1b5e20",
            narration=("Tiny plants grow and spread across the meadow like a living carpet."),
        ),
        SynthScene(
            8.0,
            "color=c=0xef6c00",
            "Sunset at the summit",
            narration=("Finally we watch an orange sunset from the summit of the hill."),
        ),
    ]
    return {"demo_product_launch.mp4": launch, "demo_nature_walk.mp4": nature}


def build_demo_library(folder: Path, *, timeout_s: float = 300.0) -> list[Path]:
    """Two ~45 s narrated demo videos with captions; existing valid files are kept (idempotent)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    engine: Literal["espeak-ng", "flite"] = "flite" if shutil.which("flite") else "espeak-ng"
    voice = "slt" if engine == "flite" else None
    require_tool("ffmpeg")
    made: list[Path] = []
    for name, scenes in _demo_specs().items():
        target = folder / name
        if target.is_file() and target.stat().st_size > 0:
            made.append(target)
            continue
        build_video(
            target,
            scenes,
            size=(640, 360),
            fps=25,
            tts_engine=engine,
            voice=voice,
            timeout_s=timeout_s,
        )
        made.append(target)
    return made
