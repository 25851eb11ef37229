"""One typed settings object, read from ``SCENESPARK_*`` environment variables.

Every knob of SceneSpark lives here; nothing else reads the environment for configuration.
Empty model names mean "the model bundled in an installed package" (see ``scenespark.models``).
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from scenespark.errors import ConfigError


def _default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "scenespark"


def _default_cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "scenespark"


class Settings(BaseSettings):
    """SceneSpark configuration. Field ``foo`` is read from ``SCENESPARK_FOO``."""

    model_config = SettingsConfigDict(env_prefix="SCENESPARK_", extra="ignore", frozen=True)

    # --- storage -------------------------------------------------------------------------
    home: Path = Field(
        default_factory=_default_home, description="Data dir: chroma/, catalog.db, media/"
    )
    chroma_url: str = Field(
        "", description="Chroma server URL; empty = embedded store in home/chroma"
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Derived files shared by every library, safe to delete (the ONNX graph of "
        "the text model, built from its packaged weights)",
    )
    library_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders the HTTP API may index from (os.pathsep, comma or JSON list)",
    )

    # --- models per modality -------------------------------------------------------------
    text_model: str = Field(
        "", description="sentence-transformers name or path; empty = bundled all-MiniLM-L6-v2"
    )
    text_runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto",
        description="how sentence-transformers models run: onnx = ONNX Runtime graph built from "
        "the model's weights (BERT models with mean pooling, loads in ~1 s without torch), "
        "torch = sentence-transformers; auto = onnx where the model is supported",
    )
    speech_model: str = Field(
        "", description="faster-whisper size/name or path; empty = bundled default"
    )
    speech_language: str = Field(
        "", description="ISO code (e.g. 'en', 'zh'); empty = auto-detect; forces recognition"
    )
    speech_language_min_probability: float = Field(
        0.6, ge=0.0, le=1.0, description="auto-detected languages below this are flagged"
    )
    speech_beam_size: int = Field(1, ge=1, le=10)
    speech_lanes: int = Field(
        0,
        ge=0,
        le=16,
        description="Whisper workers sharing one long transcription (the extra ones start when "
        "the frame lane is done); 0 = cores / (workers x model threads), 1 = one after another",
    )
    ocr_model: str = Field("rapidocr", description="'rapidocr' (bundled) or 'none' to disable OCR")
    ocr_min_confidence: float = Field(0.6, ge=0.0, le=1.0)
    visual_backend: Literal["auto", "clip", "tagger", "vlm", "none"] = Field(
        "auto",
        description="auto = CLIP when clip_pretrained is set, else the image tagger; "
        "vlm = frames described by a vision LLM endpoint",
    )
    clip_model: str = Field("ViT-B-32", description="open_clip architecture")
    clip_pretrained: str = Field("", description="local checkpoint path (or hub tag when online)")
    tagger_model: str = Field(
        "", description="timm checkpoint path; empty = bundled efficientnet-lite0"
    )
    use_sidecar_subtitles: bool = Field(True, description="use video.srt / video.vtt when present")

    # --- indexing ------------------------------------------------------------------------
    frame_interval_s: float = Field(2.0, gt=0.0, description="sample a frame at least this often")
    ocr_interval_s: float = Field(1.0, gt=0.0, description="OCR candidate frame spacing")
    frame_reader: Literal["pyav", "decord"] = Field("pyav", description="video decoder for frames")
    workers: int = Field(1, ge=1, le=16, description="videos indexed concurrently")
    model_threads: int = Field(0, ge=0, description="threads per model; 0 = cores / (2 x workers)")
    thumbnail_max_side: int = Field(320, ge=64, le=1280)
    ray_address: str = Field(
        "",
        description="index on Ray: 'local' (a Ray instance inside the command), 'auto', "
        "HOST:PORT of a cluster started with `ray start`; empty = no Ray",
    )

    # --- search --------------------------------------------------------------------------
    search_min_score: float = Field(0.35, ge=0.0, le=1.0, description="hits below are dropped")
    highlight_min_score: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="absolute relevance floor for reel candidates; unset = search's cut-off "
        "(search_min_score), below which a clip enters only when its own words hold a word of "
        "the prompt; 0 = only the planner's relative rule",
    )
    search_query_cache: int = Field(
        2048, ge=0, le=1_000_000, description="recent query vectors kept in memory (0 = none)"
    )
    search_word_moments: bool = Field(
        True,
        description="narrow speech hits longer than one subtitle event (7 s) to the "
        "best-matching words (false: a speech hit is its whole sentences)",
    )

    # --- highlights / LLM ----------------------------------------------------------------
    llm_base_url: str = Field("", description="OpenAI-compatible endpoint; empty = offline planner")
    llm_api_key: str = Field("", description="API key for the endpoint")
    llm_model: str = Field("gpt-4o-mini", description="model name sent to the endpoint")
    llm_timeout_s: float = Field(60.0, gt=0.0)
    llm_retries: int = Field(1, ge=0, le=5)
    llm_send_keyframes: bool = Field(
        False, description="also send candidates' keyframes to the LLM planner (vision models)"
    )
    render_timeout_s: float = Field(600.0, gt=0.0)
    max_reel_s: float = Field(
        3600.0, gt=0.0, description="cap on a reel's length, asked for or parsed from the prompt"
    )
    highlight_workers: int = Field(1, ge=1, le=8)
    index_queue_limit: int = Field(
        500, ge=1, le=100_000, description="index jobs waiting in the server; more → HTTP 429"
    )
    highlight_queue_limit: int = Field(
        16, ge=1, le=10_000, description="highlight jobs waiting in the server; more → HTTP 429"
    )
    job_max_interruptions: int = Field(
        3, ge=1, le=100, description="a job cut off by this many server stops/crashes fails"
    )

    # --- vision LLM (SCENESPARK_VISUAL_BACKEND=vlm) ---------------------------------------
    vision_base_url: str = Field("", description="OpenAI-compatible endpoint; empty = llm's")
    vision_model: str = Field("", description="model name; empty = SCENESPARK_LLM_MODEL")
    vision_api_key: str = Field("", description="API key; empty = SCENESPARK_LLM_API_KEY")
    vision_timeout_s: float = Field(60.0, gt=0.0, description="per request")
    vision_retries: int = Field(1, ge=0, le=5, description="client retries per request")
    vision_frames_per_request: int = Field(8, ge=1, le=32)
    vision_max_frames_per_minute: int = Field(
        12, ge=1, le=120, description="frames sent per minute of video, at most"
    )
    vision_max_side_px: int = Field(1024, ge=128, le=2048, description="longer side of a frame")
    vision_jpeg_quality: int = Field(80, ge=30, le=95)
    vision_concurrency: int = Field(2, ge=1, le=8, description="requests in flight per video")

    # --- server --------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    max_upload_mb: int = Field(2048, ge=1)
    upload_quota_mb: int = Field(0, ge=0, description="total size of uploads/; 0 = no quota")
    api_token: SecretStr = Field(
        SecretStr(""), description="when set, the HTTP API needs it (Bearer or session cookie)"
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host header names the server answers to (comma list; '*' = any); "
        "empty = localhost, 127.0.0.1, ::1 and the bind address",
    )

    @field_validator("library_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return []
            if text.startswith("["):
                try:
                    return json.loads(text)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"SCENESPARK_LIBRARY_ROOTS is not a JSON list: {exc}") from exc
            sep = os.pathsep if os.pathsep in text else ","
            return [part.strip() for part in text.split(sep) if part.strip()]
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(" ", ",").split(",") if part.strip()]
        return value

    @field_validator("home", "cache_dir", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    # --- derived paths -------------------------------------------------------------------
    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.db"

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url.strip())

    @property
    def vision_endpoint(self) -> tuple[str, str, str]:
        """(base URL, model, API key) of the vision LLM, each defaulting to the LLM's."""
        return (
            self.vision_base_url.strip() or self.llm_base_url.strip(),
            self.vision_model.strip() or self.llm_model.strip(),
            self.vision_api_key or self.llm_api_key,
        )

    def resolved_roots(self) -> list[Path]:
        return [Path(root).expanduser().resolve() for root in self.library_roots]

    def reel_min_score(self) -> float:
        """The absolute floor for reel candidates: ``highlight_min_score``, or search's cut-off."""
        if self.highlight_min_score is None:
            return self.search_min_score
        return self.highlight_min_score

    def threads_per_model(self) -> int:
        if self.model_threads:
            return self.model_threads
        # each video runs two lanes at once (speech beside frames/OCR/visual): split the cores
        # between them; oversubscribing (e.g. 2 ORT + 2 CTranslate2 threads on 2 cores) was
        # measured 2x slower than one thread per model
        cores = os.cpu_count() or 1
        return max(1, cores // (2 * self.workers))

    def ensure_dirs(self) -> None:
        for path in (self.home, self.media_dir, self.models_dir):
            path.mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; invalid values become a one-line ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except Exception as exc:  # pydantic ValidationError or a bad env value
        first = str(exc).splitlines()
        detail = " ".join(first[:3]) if first else repr(exc)
        raise ConfigError(f"invalid SCENESPARK_* setting: {detail}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def apply_offline_env() -> None:
    """Environment every process sets before importing model libraries (docs/architecture.md §10)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray never phones home
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bars
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # libraries that log below WARNING by default (bm25s sets its own logger to DEBUG)
    for name in ("bm25s", "sentence_transformers", "chromadb", "httpx", "faster_whisper"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        try:
            import importlib.util

            spec = importlib.util.find_spec("llama_index.core")
            if spec and spec.origin:
                cache = Path(spec.origin).parent / "_static" / "tiktoken_cache"
                if cache.is_dir():
                    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        except (ImportError, ValueError):
            pass
