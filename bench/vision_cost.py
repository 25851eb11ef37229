"""What the vision-LLM visual backend costs, against the offline tagger, on one video.

    .venv/bin/python bench/vision_cost.py [VIDEO] [--json]

Default video: ../shared/eval/corpus_a.mp4. In one process, models loaded before timing:
  tagger     `IndexService.index_file` with SCENESPARK_VISUAL_BACKEND=tagger (the baseline)
  vlm        the same with SCENESPARK_VISUAL_BACKEND=vlm against the fake vision endpoint of
             the tests (a real HTTP server on 127.0.0.1 that captions frames by their colour):
             requests and images per minute of video, JPEG bytes per frame, wall time.
             A real endpoint adds its own latency (typically 1-10 s per request), overlapped
             with decoding by SCENESPARK_VISION_CONCURRENCY requests in flight.
  sizes      JPEG bytes per frame at 512, 768 and 1024 px (quality 80) for the frames sent,
             and the image tokens they would cost (OpenAI tiles; Qwen2.5-VL 28-px patches).
  labels     should the tagger's labels be stored beside the captions? On three generated
             frames whose captions are right by construction (the fake's red/green/blue
             scenes), the text-embedding margin between the right frame and the best wrong one
             for three queries, caption alone vs caption + the tagger's labels of that frame.
Speech and OCR are off in both runs so the visual stage is what differs.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenespark.config import apply_offline_env, load_settings  # noqa: E402

apply_offline_env()

DEFAULT_VIDEO = Path("/work/shared/eval/corpus_a.mp4")
if not DEFAULT_VIDEO.is_file():
    DEFAULT_VIDEO = ROOT.parent / "shared" / "eval" / "corpus_a.mp4"


def openai_tokens(width: int, height: int) -> int:
    """GPT-4o(-mini) 'high detail' image tokens: fit 2048, shortest side 768, 512-px tiles."""
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    scale = min(1.0, 768 / min(w, h))
    w, h = w * scale, h * scale
    return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


def qwen_tokens(width: int, height: int) -> int:
    """Qwen2.5-VL: one token per 28x28 patch (after rounding to multiples of 28)."""
    return max(1, round(width / 28)) * max(1, round(height / 28))


def run(video: Path, backend: str, fake_url: str, home: Path) -> dict:
    from indexer.service import IndexService
    from scenespark.engine import Engine
    from scenespark.types import Modality

    settings = load_settings(
        home=home,
        visual_backend=backend,
        vision_base_url=fake_url,
        vision_model="fake-vision",
        ocr_model="none",
    )
    engine = Engine(settings)
    engine.models.text()
    engine.models.visual()
    engine.text_space()
    started = time.perf_counter()
    outcome = IndexService(engine).index_file(video, modalities=[Modality.VISUAL])
    wall = time.perf_counter() - started
    return {
        "backend": backend,
        "wall_s": round(wall, 2),
        "frames_stage_s": outcome.stage_s.get("frames"),
        "visual_segments": outcome.counts.get("visual", 0),
        "duration_s": outcome.duration_s,
        "message": outcome.message,
        "action": outcome.action,
        "engine": engine,
        "video_id": outcome.video_id,
    }


def shot_coverage(engine, video_id: str) -> dict:
    """How many shots have at least one described frame (the per-minute budget's effect)."""
    from scenespark.types import Modality

    shots = engine.catalog.require_video(video_id).shots
    covered = {s.shot_id for s in engine.catalog.segments(video_id, [Modality.VISUAL])}
    return {"shots": len(shots), "shots_with_a_caption": len(covered)}


def labels_beside_captions(engine) -> dict:
    import numpy as np

    from indexer.stages import readable_tags
    from tests.fake_vision import SCENES
    from tests.test_vision_llm import _solid

    tagger = engine.models.visual()
    text = engine.models.text()
    colours = list(SCENES)
    frames = [_solid(colour, 1024, 576) for colour in colours]
    labels = [
        readable_tags(tags, getattr(tagger, "describe_tags", None))
        for tags in tagger.tag_images(frames)
    ]
    captions = [f"{SCENES[c][0]} | {', '.join(SCENES[c][1])}" for c in colours]
    queries = {"green": "a goalkeeper diving", "red": "a red apple on a table", "blue": "a boat"}
    out: dict = {"tagger_labels": dict(zip(colours, labels, strict=True))}
    for variant, texts in (
        ("caption", captions),
        ("caption+labels", [f"{c} | {lab}" for c, lab in zip(captions, labels, strict=True)]),
    ):
        docs = text.embed_texts([f"a picture of {t}" for t in texts])
        margins = []
        for colour, query in queries.items():
            sims = docs @ text.embed_query(query)
            right = colours.index(colour)
            wrong = max(float(s) for i, s in enumerate(sims) if i != right)
            margins.append(float(sims[right]) - wrong)
        # a query naming what the tagger wrongly saw: how strongly does it match now?
        false_labels = sorted({lab.split(",")[0].strip() for lab in labels if lab})
        false_sim = max(float(np.max(docs @ text.embed_query(f"a {w}"))) for w in false_labels)
        out[variant] = {
            "mean_margin": round(float(np.mean(margins)), 4),
            "min_margin": round(min(margins), 4),
            "best_similarity_of_a_wrong_label_query": round(false_sim, 4),
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", default=str(DEFAULT_VIDEO))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    video = Path(args.video)

    from PIL import Image

    from scenespark.media.scan import scan_video
    from scenespark.models.vision_llm import encode_jpeg
    from tests.fake_vision import FakeVision

    fake = FakeVision().start()
    report: dict = {"video": str(video)}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tagger = run(video, "tagger", fake.base_url, Path(tmp) / "tagger")
            vlm = run(video, "vlm", fake.base_url, Path(tmp) / "vlm")
            if "failed" in (tagger["action"], vlm["action"]):
                raise SystemExit(f"indexing failed: {tagger['message'] or vlm['message']}")
            minutes = vlm["duration_s"] / 60.0
            usage = vlm["engine"].catalog.captions.usage("fake-vision")
            report["tagger"] = {k: v for k, v in tagger.items() if k not in ("engine", "video_id")}
            report["vlm"] = {k: v for k, v in vlm.items() if k not in ("engine", "video_id")}
            report["vlm"].update(
                requests=usage.requests,
                images=usage.images,
                requests_per_minute=round(usage.requests / minutes, 2),
                images_per_minute=round(usage.images / minutes, 2),
                jpeg_bytes_per_frame=round(usage.image_bytes / max(1, usage.images)),
                frames_captioned=usage.frames_captioned,
                **shot_coverage(vlm["engine"], vlm["video_id"]),
            )
            # the frames sent, re-encoded at other sizes
            sizes: dict[str, dict] = {}
            scan = scan_video(video, max_side=1024)  # the frames a vlm run decodes
            images = [s.image for s in scan.visual][:: max(1, len(scan.visual) // 24)]
            for side in (512, 768, 1024):
                encoded = [encode_jpeg(img, side, 80) for img in images]
                dims = [Image.open(io.BytesIO(e)).size for e in encoded]
                sizes[str(side)] = {
                    "jpeg_bytes_per_frame": round(sum(map(len, encoded)) / len(encoded)),
                    "openai_tokens_per_frame": round(
                        sum(openai_tokens(*d) for d in dims) / len(dims)
                    ),
                    "qwen25vl_tokens_per_frame": round(
                        sum(qwen_tokens(*d) for d in dims) / len(dims)
                    ),
                }
            report["sizes"] = sizes
            report["labels"] = labels_beside_captions(tagger["engine"])
            report["frames_measured_for_sizes"] = len(images)
    finally:
        fake.stop()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    for name in ("tagger", "vlm"):
        row = report[name]
        print(
            f"{name:<6} wall {row['wall_s']:.1f} s, frames stage {row['frames_stage_s']} s, "
            f"{row['visual_segments']} visual segments"
        )
    v = report["vlm"]
    print(
        f"vlm: {v['requests_per_minute']} requests/min, {v['images_per_minute']} images/min, "
        f"{v['jpeg_bytes_per_frame']} JPEG bytes/frame; {v['shots_with_a_caption']} of "
        f"{v['shots']} shots described; {v['message']}"
    )
    lab = report["labels"]
    print(f"tagger labels on the generated frames: {lab['tagger_labels']}")
    for variant in ("caption", "caption+labels"):
        row = lab[variant]
        print(
            f"  {variant:<15} margin right-vs-best-wrong: mean {row['mean_margin']}, "
            f"min {row['min_margin']}; a query for a wrong tagger label matches at "
            f"{row['best_similarity_of_a_wrong_label_query']}"
        )
    for side, row in report["sizes"].items():
        print(
            f"  {side:>4} px: {row['jpeg_bytes_per_frame']} B/frame, "
            f"~{row['openai_tokens_per_frame']} GPT-4o tokens, "
            f"~{row['qwen25vl_tokens_per_frame']} Qwen2.5-VL tokens"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
