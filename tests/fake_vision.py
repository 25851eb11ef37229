"""A fake vision LLM: the real HTTP server of :mod:`tests.fake_openai`, answering chat
completions that carry images by *looking at them*.

Each ``image_url`` part is decoded (base64 JPEG → pixels) and described by its dominant colour:
a mostly red frame is "a red apple on a wooden table", a green one "a goalkeeper diving on a
green football pitch", a blue one "a sailing boat on a blue sea"; any other colour gets
"a <colour> picture". So indexing → search can be checked end to end with generated media, and
a caption is only right when the indexer sent the right pixels for the right index.

Scripted behaviours (one per request, the last repeats), besides ``error500``/``slow``/
``reject_formats`` of the parent:

* ``good``           one entry per frame, in request order
* ``invalid_json``   text that is not JSON
* ``wrong_indexes``  every index shifted by one (the first frame is missing, one is out of range)
* ``half``           only the first half of the frames
* ``wrong_shape``    ``{"frames": "none"}``
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.fake_openai import FakeOpenAI

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 160, 40),
    "blue": (30, 60, 220),
    "yellow": (230, 220, 40),
    "white": (240, 240, 240),
    "black": (10, 10, 10),
    "grey": (128, 128, 128),
}
SCENES: dict[str, tuple[str, list[str]]] = {
    "red": ("a red apple on a wooden table", ["apple", "fruit", "table", "red"]),
    "green": ("a goalkeeper diving on a green football pitch", ["goalkeeper", "football"]),
    "blue": ("a sailing boat on a blue sea", ["boat", "sea", "water", "blue"]),
}


def dominant_colour(image: np.ndarray) -> str:
    mean = image.reshape(-1, 3).mean(axis=0)
    return min(COLOURS, key=lambda name: float(np.sum((mean - np.array(COLOURS[name])) ** 2)))


def describe(image: np.ndarray) -> tuple[str, list[str]]:
    colour = dominant_colour(image)
    return SCENES.get(colour, (f"a {colour} picture", [colour]))


def request_images(body: dict[str, Any]) -> list[np.ndarray]:
    """The images of a request's LAST user message, decoded, in order."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    images: list[np.ndarray] = []
    for message in users:
        content = message.get("content")
        if not isinstance(content, list):
            continue
        found = []
        for part in content:
            if part.get("type") == "image_url":
                url = part["image_url"]["url"]
                assert url.startswith("data:image/jpeg;base64,"), url[:40]
                raw = base64.b64decode(url.split(",", 1)[1])
                found.append(np.asarray(Image.open(io.BytesIO(raw)).convert("RGB")))
        if found:
            images = found
    return images


class FakeVision(FakeOpenAI):
    def __init__(self) -> None:
        super().__init__()
        self.model = "fake-vision"
        self.image_sizes: list[tuple[int, int]] = []  # (width, height) of every image received

    def reset(self, *script: str) -> None:
        super().reset(*script)
        with self._lock:
            self.image_sizes.clear()

    def images_received(self) -> int:
        return len(self.image_sizes)

    def respond(self, behaviour: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | str]:
        images = request_images(body)
        with self._lock:
            self.image_sizes.extend((img.shape[1], img.shape[0]) for img in images)
        fmt = (body.get("response_format") or {}).get("type")
        if not images or behaviour == "error500" or (behaviour == "reject_formats" and fmt):
            return super().respond(behaviour, body)
        if behaviour == "slow":
            import time

            time.sleep(self.slow_s)
        entries = []
        for index, image in enumerate(images):
            caption, tags = describe(image)
            entries.append({"index": index, "caption": caption, "tags": tags})
        if behaviour == "invalid_json":
            content = 'Here you go: {frames: [{index: 0, caption: "a frame"'
        elif behaviour == "wrong_indexes":
            content = json.dumps({"frames": [{**e, "index": e["index"] + 1} for e in entries]})
        elif behaviour == "half":
            content = json.dumps({"frames": entries[: max(1, len(entries) // 2)]})
        elif behaviour == "wrong_shape":
            content = json.dumps({"frames": "none"})
        else:
            content = json.dumps({"frames": entries})
        return 200, self.completion(content, body)


@pytest.fixture
def fake_vision() -> Iterator[FakeVision]:
    server = FakeVision().start()
    try:
        yield server
    finally:
        server.stop()
