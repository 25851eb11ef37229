"""Readable ImageNet-1k labels (from the synset files timm ships) and coarse category words.

The tagger's labels become text evidence, so "tabby, tabby cat" becomes the label "tabby cat"
with aliases ["tabby"], and animal classes get a few generic words ("cat", "mammal", "animal")
so that a query for "animal" can match a tagged frame. The category ranges follow the standard
ordering of the ImageNet-1k classes (WordNet hierarchy), not any particular video.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from scenespark.errors import ModelUnavailableError
from scenespark.models.resolve import package_dir

# (first class index, last class index inclusive, generic words), by ImageNet-1k class order.
_CATEGORY_RANGES: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 6, ("fish", "animal")),
    (7, 24, ("bird", "animal")),
    (25, 32, ("amphibian", "animal")),
    (33, 37, ("turtle", "reptile", "animal")),
    (38, 50, ("reptile", "animal")),
    (51, 51, ("dinosaur", "reptile", "animal")),
    (52, 68, ("snake", "reptile", "animal")),
    (69, 79, ("invertebrate", "animal")),
    (80, 100, ("bird", "animal")),
    (101, 106, ("mammal", "animal")),
    (107, 126, ("sea creature", "invertebrate", "animal")),
    (127, 146, ("bird", "animal")),
    (147, 150, ("marine mammal", "mammal", "animal")),
    (151, 268, ("dog", "mammal", "animal")),
    (269, 280, ("wild dog", "mammal", "animal")),
    (281, 285, ("cat", "mammal", "animal")),
    (286, 293, ("big cat", "wild cat", "mammal", "animal")),
    (294, 297, ("bear", "mammal", "animal")),
    (298, 299, ("mammal", "animal")),
    (300, 320, ("insect", "animal")),
    (321, 326, ("butterfly", "insect", "animal")),
    (327, 329, ("sea creature", "invertebrate", "animal")),
    (330, 332, ("rabbit", "mammal", "animal")),
    (333, 338, ("rodent", "mammal", "animal")),
    (339, 355, ("hoofed mammal", "mammal", "animal")),
    (356, 364, ("mammal", "animal")),
    (365, 384, ("primate", "monkey", "mammal", "animal")),
    (385, 386, ("elephant", "mammal", "animal")),
    (387, 388, ("panda", "mammal", "animal")),
    (389, 397, ("fish", "animal")),
)

_LATIN_NAME = re.compile(r"^[A-Z][a-z]+( [a-z]+){1,2}$")


@dataclass(frozen=True)
class ImageNetLabel:
    index: int
    name: str  # readable primary label, e.g. "tabby cat"
    aliases: tuple[str, ...]  # other common names
    categories: tuple[str, ...]  # generic words, e.g. ("cat", "mammal", "animal")

    def terms(self) -> list[str]:
        """Name, aliases and category words, without duplicates (for text evidence)."""
        seen: list[str] = []
        for term in (self.name, *self.aliases, *self.categories):
            if term.lower() not in (s.lower() for s in seen):
                seen.append(term)
        return seen


def _categories(index: int) -> tuple[str, ...]:
    for first, last, words in _CATEGORY_RANGES:
        if first <= index <= last:
            return words
    return ()


def readable(lemmas: str, index: int = -1) -> ImageNetLabel:
    """Turn a WordNet lemma list ("tabby, tabby cat") into a label with aliases."""
    names = [name.strip() for name in lemmas.split(",") if name.strip()]
    if not names:
        return ImageNetLabel(index=index, name=f"class {index}", aliases=(), categories=())
    first = names[0]
    first_words = {w.lower() for w in first.split()}
    kept = [first]
    for name in names[1:]:
        shares_word = bool(first_words & {w.lower() for w in name.split()})
        if _LATIN_NAME.match(name) and not shares_word:
            continue  # scientific names ("Felis concolor") are not useful evidence
        kept.append(name)
    primary = first
    for name in kept[1:]:
        # "tabby" -> "tabby cat", "lycaenid" -> "lycaenid butterfly": the longer name reads better.
        if name.lower().startswith(first.lower() + " ") and len(name.split()) <= 3:
            primary = name
            break
    aliases = tuple(name for name in kept if name != primary)
    return ImageNetLabel(index=index, name=primary, aliases=aliases, categories=_categories(index))


@lru_cache(maxsize=1)
def imagenet_labels() -> tuple[ImageNetLabel, ...]:
    """The 1000 ImageNet-1k labels in class order, from timm's shipped synset files."""
    timm_dir = package_dir("timm")
    info = timm_dir / "data" / "_info" if timm_dir else None
    synsets_file = info / "imagenet_synsets.txt" if info else None
    lemma_file = info / "imagenet_synset_to_lemma.txt" if info else None
    if not synsets_file or not lemma_file or not synsets_file.is_file() or not lemma_file.is_file():
        raise ModelUnavailableError("ImageNet label files not found: install the PyPI package timm")
    lemmas: dict[str, str] = {}
    for line in lemma_file.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            synset, names = line.split("\t", 1)
            lemmas[synset.strip()] = names.strip()
    synsets = [
        s.strip() for s in synsets_file.read_text(encoding="utf-8").splitlines() if s.strip()
    ]
    if len(synsets) != 1000:
        raise ModelUnavailableError(
            f"timm's imagenet_synsets.txt has {len(synsets)} classes, expected 1000"
        )
    return tuple(readable(lemmas.get(s, s), i) for i, s in enumerate(synsets))
