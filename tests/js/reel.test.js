import assert from "node:assert/strict";
import { test } from "node:test";

import {
  emptyReelMessage,
  finishedNotice,
  historyDetail,
  isEmptyReel,
  reelDownloads,
  reelMeta,
  replanPlaceholder,
  requestedTargetS,
} from "../../server/static/js/reel.js";

const clip = (id, start, end) => ({ clip_id: id, video_id: "v1", start_s: start, end_s: end });

test("an empty reel offers no downloads (no 'nullnullnull')", () => {
  const job = { status: "done", result: { clips: [], reel_url: "", srt_url: "", edl_url: "" } };
  assert.equal(isEmptyReel(job), true);
  assert.deepEqual(reelDownloads(job.result), []);
  assert.deepEqual(reelDownloads(null), []);
  assert.equal(finishedNotice(job), "No reel: no moment matched the prompt well enough.");
  assert.ok(!finishedNotice(job).includes("0 clips"));
});

test("every timeline file the result offers gets a link, named after the title", () => {
  const result = {
    title: "Garden & Sale",
    clips: [clip("a", 0, 5)],
    reel_url: "/media/files/r/reel.mp4",
    srt_url: "/media/files/r/reel.srt",
    edl_url: "/media/files/r/reel.edl",
    fcp7_xml_url: "/media/files/r/reel.xml",
    otio_url: "/media/files/r/reel.otio",
    fcpxml_url: null,
  };
  const files = reelDownloads(result);
  assert.deepEqual(
    files.map((f) => f.label),
    [
      "Reel (MP4)",
      "Subtitles (SRT)",
      "Edit list (EDL)",
      "Premiere / Resolve (FCP7 XML)",
      "OpenTimelineIO (OTIO)",
    ],
  );
  assert.deepEqual(
    files.map((f) => f.name),
    ["garden-sale.mp4", "garden-sale.srt", "garden-sale.edl", "garden-sale.xml", "garden-sale.otio"],
  );
  assert.equal(files[3].url, "/media/files/r/reel.xml");
});

test("the re-plan box names the requested target, not the reel's length", () => {
  const job = { params: { target_duration_s: 20 }, result: { duration_s: 8, clips: [clip("a", 0, 8)] } };
  assert.equal(requestedTargetS(job), 20);
  assert.equal(replanPlaceholder(job), "same (20 s)");
  assert.equal(replanPlaceholder({ params: { target_duration_s: 12.5 }, result: {} }), "same (12.5 s)");
  // a target the server resolved from the prompt wins over an empty request field
  assert.equal(replanPlaceholder({ params: {}, result: { target_duration_s: 25 } }), "same (25 s)");
  assert.equal(
    replanPlaceholder({ params: { target_duration_s: null }, result: { duration_s: 8 } }),
    "same (from the prompt)",
  );
});

test("finished notices and history lines for each state", () => {
  const done = { status: "done", result: { clips: [clip("a", 0, 5), clip("b", 9, 12)], duration_s: 8 } };
  assert.equal(finishedNotice(done), "Highlight reel ready: 2 clips.");
  assert.equal(historyDetail(done), "2 clips · 00:00:08");
  const failed = { status: "failed", error: "ffmpeg exited with code 1", result: null };
  assert.equal(finishedNotice(failed), "The highlight job failed: ffmpeg exited with code 1");
  assert.equal(historyDetail(failed), "ffmpeg exited with code 1");
  assert.equal(historyDetail({ status: "running", progress: 0.42 }), "42 %");
  assert.equal(historyDetail({ status: "done", result: { clips: [] } }), "no clip matched");
  assert.equal(
    reelMeta({ clips: [clip("a", 0, 5)], duration_s: 5, planner: "deterministic" }),
    "1 clip · 00:00:05 · planner: deterministic",
  );
});

test("an empty reel explains where nothing matched", () => {
  const library = emptyReelMessage({ prompt: "fireworks", params: {} });
  assert.match(library, /^Nothing in the library matched “fireworks”/);
  const chosen = emptyReelMessage({ prompt: "烟花", params: { video_ids: ["v1"] } });
  assert.match(chosen, /^Nothing in the chosen videos matched “烟花”/);
  assert.ok(!emptyReelMessage({}).includes("undefined"));
});
