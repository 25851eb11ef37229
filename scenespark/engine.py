"""The Engine: the stores and models one process holds, opened once and shared.

The server and the CLI build one Engine; search, indexing and highlights take it. Heavy pieces
(models, Chroma) open lazily on first use, so ``index status`` never loads torch.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import TYPE_CHECKING

from scenespark.config import Settings, apply_offline_env
from scenespark.types import Video

if TYPE_CHECKING:
    from scenespark.models.registry import ModelRegistry
    from scenespark.store.catalog import Catalog
    from scenespark.store.keyword import KeywordCache
    from scenespark.store.vectors import VectorStore

TEXT_SPACE = "text"
CLIP_SPACE = "clip"
KEYWORD_DIR = "keyword"  # the keyword index kept on disk (scenespark.store.keyword)


class Engine:
    def __init__(self, settings: Settings, *, background_keywords: bool = False) -> None:
        """``background_keywords``: rebuild the keyword index in the background after the
        library changes, serving the previous one meanwhile (for a long-running server)."""
        apply_offline_env()
        settings.ensure_dirs()
        self.settings = settings
        self._background_keywords = background_keywords
        self._videos: dict[str, Video | None] = {}
        self._videos_version = -1
        self._lock = threading.RLock()

    @cached_property
    def catalog(self) -> Catalog:
        from scenespark.store.catalog import Catalog

        return Catalog(self.settings.catalog_path)

    @cached_property
    def models(self) -> ModelRegistry:
        from scenespark.models.registry import ModelRegistry

        return ModelRegistry(self.settings)

    @cached_property
    def vectors(self) -> VectorStore:
        from scenespark.store.vectors import VectorStore

        with self._lock:
            return VectorStore(self.settings)

    @cached_property
    def keywords(self) -> KeywordCache:
        from scenespark.store.keyword import KeywordCache

        return KeywordCache(
            self.catalog,
            background=self._background_keywords,
            folder=self.settings.home / KEYWORD_DIR,
        )

    def video(self, video_id: str) -> Video | None:
        """A catalog video, cached until any video row changes (search reads many per query)."""
        version = self.catalog.videos_version()
        with self._lock:
            if version != self._videos_version:
                self._videos.clear()
                self._videos_version = version
            if video_id in self._videos:
                return self._videos[video_id]
        video = self.catalog.get_video(video_id)
        with self._lock:
            if version == self._videos_version:
                self._videos[video_id] = video
        return video

    def text_space(self) -> str:
        """Open (or create) the text embedding space for the configured text model."""
        from scenespark.errors import StoreError

        embedder = self.models.text()
        try:
            self.vectors.open_space(TEXT_SPACE, embedder.info.name, embedder.dimension)
        except StoreError:  # the handle may be stale: another process switched the model
            self.vectors.forget_space(TEXT_SPACE)
            self.vectors.open_space(TEXT_SPACE, embedder.info.name, embedder.dimension)
        return TEXT_SPACE

    def clip_space(self) -> str | None:
        encoder = self.models.visual()
        if encoder is None or encoder.kind != "clip":
            return None
        dim = int(encoder.info.dimension or 0)
        self.vectors.open_space(CLIP_SPACE, encoder.info.name, dim)
        return CLIP_SPACE

    def close(self) -> None:
        if "vectors" in self.__dict__:
            self.vectors.close()
