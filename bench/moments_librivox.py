"""Word-level moments on real read speech (issue: "Moments, not sentences").

    .venv/bin/python bench/moments_librivox.py [--json]

Builds a video from ../shared/eval/speech/librivox: a still picture plus the five utterances
read back to back (--gap-s apart; 0 makes Whisper join them into long sentences), indexes it with the default offline models, and asks for
each utterance ("line") by a verbatim quote of its reference text and by a paraphrase written
by hand. A line's true extent is the Whisper word timings inside its utterance's slot of the
audio (the slot is known exactly from the concatenation); a phrase's true extent is the timings of
its words, found in the transcript. Reports R@1 at IoU 0.5 and 0.7 with
word moments on and off (SCENESPARK_SEARCH_WORD_MOMENTS), in the same run on the same index.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scenespark.config import apply_offline_env, load_settings  # noqa: E402

apply_offline_env()

EVAL = ROOT.parent / "shared" / "eval" / "speech"
# phrases inside the utterances, quoted and paraphrased: the moment is their words
PHRASES = {
    "how much there might be prudently in his power": "what he could wisely afford",
    "had he married a more amiable woman": "if his wife had been nicer",
    "he might have been made still more respectable than he was": "he could have been even more "
    "respected",
    "rather cold hearted and rather selfish": "quite heartless and self-centred",
}
# hand-written paraphrases of each utterance (same meaning, other words)
PARAPHRASES = {
    "0870": "John Dashwood had time to think about how much he could sensibly do for them",
    "0880": "he was not a young man with bad intentions",
    "0890": "being somewhat cold and selfish counts as ill-disposed",
    "0920": "if his wife had been kinder he could have become even more respected",
    "0930": "he might have become likeable himself",
}


def build_video(
    work: Path, gap_s: float
) -> tuple[Path, dict[str, tuple[float, float]], dict[str, str]]:
    refs = json.loads((EVAL / "refs.json").read_text())["items"]
    items = sorted((i for i in refs if i["set"] == "librivox"), key=lambda i: i["id"])
    slots: dict[str, tuple[float, float]] = {}
    texts: dict[str, str] = {}
    frames = b""
    rate = 16000
    t = 0.0
    silence = b"\x00\x00" * int(rate * gap_s)
    for item in items:
        with wave.open(str(EVAL / item["path"])) as w:
            rate = w.getframerate()
            data = w.readframes(w.getnframes())
        key = item["id"][-4:]
        duration = len(data) / 2 / rate
        slots[key] = (t, t + duration)
        texts[key] = item["reference"]
        frames += data + silence
        t += duration + gap_s
    audio = work / "reading.wav"
    with wave.open(str(audio), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    video = work / "librivox_reading.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=c=darkslategray:s=640x360:r=25",
         "-i", str(audio), "-shortest", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
         str(video)],
        check=True, timeout=300, capture_output=True,
    )  # fmt: skip
    return video, slots, texts


def _plain(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalpha())


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--gap-s", type=float, default=0.0)
    args = parser.parse_args()
    from indexer.evaluation import ensure_indexed
    from scenespark.engine import Engine
    from scenespark.search.engine import SearchEngine
    from scenespark.types import Modality, SearchRequest

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video, slots, texts = build_video(work, args.gap_s)
        engine = Engine(load_settings(home=work / "home"))
        video_id = ensure_indexed(engine, video)
        speech = engine.catalog.segments(video_id, [Modality.SPEECH])
        words = [w for s in speech for w in s.words]
        truth = {}
        for key, (lo, hi) in slots.items():
            inside = [w for w in words if lo <= (w.start_s + w.end_s) / 2 < hi]
            truth[key] = (inside[0].start_s, inside[-1].end_s)
        plain = [_plain(w.text) for w in words]
        phrase_quotes, phrase_paraphrases = {}, {}
        for phrase, paraphrase in PHRASES.items():
            wanted = [_plain(x) for x in phrase.split()]
            for i in range(len(plain) - len(wanted) + 1):
                if plain[i : i + len(wanted)] == wanted:
                    truth[phrase] = (words[i].start_s, words[i + len(wanted) - 1].end_s)
                    phrase_quotes[phrase] = phrase
                    phrase_paraphrases[phrase] = paraphrase
                    break
        report: dict = {
            "sentences": [(s.start_s, s.end_s, s.text) for s in speech],
            "lines": truth,
            "runs": {},
        }
        for moments in (False, True):
            settings = load_settings(home=work / "home", search_word_moments=moments)
            searcher = SearchEngine(Engine(settings))
            rows = []
            for kind, queries in (
                ("quote", texts),
                ("paraphrase", PARAPHRASES),
                ("phrase quote", phrase_quotes),
                ("phrase paraphrase", phrase_paraphrases),
            ):
                for key, query in queries.items():
                    hits = searcher.search(SearchRequest(query=query, top_k=1)).results
                    got = (hits[0].start_s, hits[0].end_s) if hits else (0.0, 0.0)
                    rows.append(
                        {"kind": kind, "line": key, "got": got, "iou": iou(got, truth[key])}
                    )
            summary = {}
            for kind in ("quote", "paraphrase", "phrase quote", "phrase paraphrase"):
                ious = [r["iou"] for r in rows if r["kind"] == kind]
                if not ious:
                    continue
                summary[kind] = {
                    "R@1@0.5": sum(x >= 0.5 for x in ious) / len(ious),
                    "R@1@0.7": sum(x >= 0.7 for x in ious) / len(ious),
                    "mean_span_s": sum(r["got"][1] - r["got"][0] for r in rows if r["kind"] == kind)
                    / len(ious),
                }
            report["runs"]["word_moments" if moments else "sentences"] = {
                "summary": summary,
                "rows": rows,
            }
        if args.json:
            print(json.dumps(report, indent=1))
            return
        for start, end, text in report["sentences"]:
            print(f"sentence {start:6.2f}-{end:6.2f}  {text}")
        for key, (lo, hi) in truth.items():
            print(f"line {key} {lo:6.2f}-{hi:6.2f}")
        for name, run in report["runs"].items():
            for row in run["rows"]:
                got = row["got"]
                print(f"{name:13s} {row['kind']:17s} {row['line'][:24]:24s} {got[0]:6.2f}-{got[1]:6.2f} "
                      f"IoU {row['iou']:.2f}")  # fmt: skip
            print(name, json.dumps(run["summary"]))


if __name__ == "__main__":
    main()
