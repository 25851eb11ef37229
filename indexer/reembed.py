"""Re-embedding the library's text with another text model, from the catalog's segments.

The text space holds one model's vectors for the whole library (speech, OCR and tagger labels),
and Chroma refuses to mix models. When ``SCENESPARK_TEXT_MODEL`` changes, ``index rebuild``
calls :func:`reembed_text_space`: the space is dropped and every active text segment of every
video is embedded again with the new model, without decoding, transcribing or reading any
video again. Videos whose extraction is also stale are re-indexed by ``rebuild`` afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

from indexer import stages
from indexer.signature import model_signatures, models_by_role
from scenespark.engine import TEXT_SPACE, Engine
from scenespark.jobs.progress import KeyedProgressFn
from scenespark.language.scripts import dominant_language
from scenespark.models.resolve_text import (
    MULTILINGUAL_TEXT_MODEL,
    auto_choice,
    record_auto_choice,
)
from scenespark.store.vectors.records import segment_records
from scenespark.store.vectors.store import same_model
from scenespark.types import Modality, Segment

TEXT_KEY = "text-model"  # progress key shown while the library is re-embedded


def text_space_model(engine: Engine) -> tuple[str, int] | None:
    """(model name, dimension) the stored text space holds, or None when there is none."""
    found = engine.vectors.spaces().get(TEXT_SPACE)
    if not found or not found.get("model"):
        return None
    return str(found["model"]), int(found.get("dimension") or 0)


def text_space_outdated(engine: Engine) -> bool:
    stored = text_space_model(engine)
    if stored is None:
        return False
    embedder = engine.models.text()
    name, dimension = stored
    return not same_model(name, embedder.info.name) or dimension != embedder.dimension


def _text_modalities(engine: Engine) -> list[Modality]:
    visual = models_by_role(engine).get("visual")
    text = [Modality.SPEECH, Modality.OCR]
    if visual is None or visual.backend != "open_clip":  # tagger labels live in the text space
        text.append(Modality.VISUAL)
    return text


def _same_extraction(old: str, new: str, text_tag_new: str) -> bool:
    """Signatures are "extractor|text model[|rN]": equal apart from the text model part."""
    head, sep, _tail = new.partition("|" + text_tag_new)
    if not sep:
        return old == new
    suffix = new[len(head) + len(sep) :]
    return old.startswith(head + "|") and old.endswith(suffix)


def reembed_text_space(engine: Engine, on_progress: KeyedProgressFn | None = None) -> int:
    """Drop the text space and embed every active text segment with the current model.

    Returns the number of segments embedded. Video signatures move to the new text model for
    the modalities whose extraction did not change, so ``rebuild`` does not redo them.
    """
    report = on_progress or (lambda _key, _fraction, _message: None)
    catalog = engine.catalog
    modalities = _text_modalities(engine)
    engine.vectors.reset_space(TEXT_SPACE)
    space = engine.text_space()
    signatures = model_signatures(engine)
    text_tag = signatures["speech"].split("|")[1] if "|" in signatures["speech"] else ""
    videos = catalog.list_videos()
    done = 0
    for number, video in enumerate(videos):
        segments = catalog.segments(video.video_id, modalities)
        by_run: dict[str, list[Segment]] = {}
        for segment in segments:
            run_id = (segment.segment_id or "").rpartition(":")[0]
            if run_id:
                by_run.setdefault(run_id, []).append(segment)
        for run_id, segs in by_run.items():
            vectors = stages.embed_texts(engine, segs)
            ids = [seg.segment_id or "" for seg in segs]
            engine.vectors.add(space, segment_records(ids, vectors, segs, run_id))
            done += len(segs)
        for modality in modalities:
            old = video.models.get(modality.value, "")
            new = signatures[modality.value]
            if old and _same_extraction(old, new, text_tag):
                video.models[modality.value] = new
        catalog.upsert_video(video)
        report(TEXT_KEY, (number + 1) / max(1, len(videos)), "re-embedding text")
    return done


ENGLISH_MODEL_LANGUAGES = {"en"}  # what the automatic English model covers (Latin script)
MIN_OTHER_TEXTS = 2
MIN_OTHER_SHARE = 0.1


def adopt_multilingual_model(engine: Engine, texts: Iterable[str]) -> bool:
    """Automatic text model: move the library to the multilingual model when ``texts`` (about
    to be embedded) hold a language the English model does not cover. Re-embeds what is already
    indexed; returns True when it switched. A configured SCENESPARK_TEXT_MODEL is never changed.
    """
    settings = engine.settings
    if settings.text_model.strip():
        return False
    chosen = auto_choice(settings)
    if chosen is not None and chosen[0] == MULTILINGUAL_TEXT_MODEL:
        return False
    languages = [dominant_language(text) for text in texts if text.strip()]
    others = [lang for lang in languages if lang not in ENGLISH_MODEL_LANGUAGES]
    # one stray OCR misreading is not a language: a few lines, a tenth of the video's text
    if len(others) < MIN_OTHER_TEXTS or len(others) < MIN_OTHER_SHARE * len(languages):
        return False
    other = sorted(set(others))
    record_auto_choice(
        settings, MULTILINGUAL_TEXT_MODEL, f"text in {', '.join(other)} found while indexing"
    )
    engine.models.forget("text")
    if text_space_model(engine) is not None:
        reembed_text_space(engine)
    return True


def warm_calibration(engine: Engine) -> None:
    """Measure (or read) the text model's search calibration now, while indexing."""
    from scenespark.models.resolve_text import known_monolingual
    from scenespark.search.calibration import calibration_for

    embedder = engine.models.text()
    calibration_for(
        embedder, engine.settings.models_dir, monolingual=known_monolingual(embedder.info)
    )
