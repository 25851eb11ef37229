"""Editor timelines from the real command: ``scenespark highlight --out DIR`` writes the EDL, the
FCP7 XML and the .otio beside the reel, and each, read back with OpenTimelineIO, holds the
result's clips at their source times, referencing the source file."""

from __future__ import annotations

import json
from pathlib import Path

import opentimelineio as otio
import pytest

from tests.test_cli import scenespark


@pytest.mark.slow
def test_highlight_out_writes_timelines_that_reread(tmp_path: Path, sample_video) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    added = scenespark(home, "index", "add", "--json", str(sample_video.path), timeout=900)
    assert added.returncode == 0, added.stderr
    made = scenespark(
        home, "highlight", "the garden and the tomatoes", "--duration", "6",
        "--out", str(out), "--json", timeout=900,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["clips"], result
    for key in ("edl_url", "fcp7_xml_url", "otio_url"):
        assert result[key].startswith("/media/files/"), key
    names = {p.name for p in out.iterdir()}
    assert {"reel.mp4", "reel.srt", "reel.edl", "reel.xml", "reel.otio"} <= names

    source = str(sample_video.path.resolve())
    fps = 25.0  # the sample video's rate, and so the reel's
    for file, adapter in (("reel.xml", "fcp_xml"), ("reel.otio", "otio_json")):
        timeline = otio.adapters.read_from_file(str(out / file), adapter)
        video = next(t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video)
        clips = video.find_clips()
        assert len(clips) == len(result["clips"]), file
        for clip, wanted in zip(clips, result["clips"], strict=True):
            assert otio.url_utils.filepath_from_url(clip.media_reference.target_url) == source
            start_s = clip.source_range.start_time.to_seconds()
            end_s = clip.source_range.end_time_exclusive().to_seconds()
            assert start_s == pytest.approx(wanted["start_s"], abs=1.0 / fps), file
            assert end_s == pytest.approx(wanted["end_s"], abs=1.0 / fps), file
            assert clip.source_range.start_time.rate == pytest.approx(fps)
    edl = otio.adapters.read_from_file(str(out / "reel.edl"), "cmx_3600", rate=fps)
    assert len(edl.find_clips()) >= len(result["clips"])  # + the audio events ("AA/V")
