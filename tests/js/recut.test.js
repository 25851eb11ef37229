import assert from "node:assert/strict";
import { test } from "node:test";

import { clipsFromTicks, nudgeCut, tickedRuns, tickedSentences } from "../../server/static/js/recut.js";

const words = (start, text) =>
  text.split(" ").map((t, i) => ({ start_s: start + i * 0.5, end_s: start + i * 0.5 + 0.4, text: t }));
const sentence = (start, text) => {
  const w = words(start, text);
  return { start_s: w[0].start_s, end_s: w[w.length - 1].end_s, text, words: w };
};
const SENTENCES = [
  sentence(1, "Welcome to the launch."),
  sentence(4, "The base model costs 899."),
  sentence(8, "It ships in May."),
  sentence(12, "Thanks for watching."),
];

test("the reel's clips tick the sentences they hold, for their own video only", () => {
  const clips = [
    { video_id: "v1", start_s: 3.9, end_s: 10.0 },
    { video_id: "v2", start_s: 0, end_s: 3 },
  ];
  assert.deepEqual([...tickedSentences(SENTENCES, clips, "v1")], [1, 2]);
  assert.deepEqual([...tickedSentences(SENTENCES, clips, "v3")], []);
});

test("consecutive ticks make one clip; a gap makes two", () => {
  assert.deepEqual(tickedRuns(new Set([3, 0, 1])), [
    [0, 1],
    [3, 3],
  ]);
  const clips = clipsFromTicks("v1", SENTENCES, new Set([0, 1, 3]), {}, 0);
  assert.deepEqual(clips, [
    { video_id: "v1", start_s: 1, end_s: 6.4 },
    { video_id: "v1", start_s: 12, end_s: 13.4 },
  ]);
});

test("a cut nudged by a word lands on the next word boundary, never past the transcript", () => {
  assert.equal(nudgeCut(SENTENCES, 4, "start", 1), 4.5); // drop "The"
  assert.equal(nudgeCut(SENTENCES, 4, "start", -1), 2.5); // take "launch." too
  assert.equal(nudgeCut(SENTENCES, 6.4, "end", -1), 5.9); // end before "899."
  assert.equal(nudgeCut(SENTENCES, 13.4, "end", 5), 13.4); // nothing after the last word
  const clips = clipsFromTicks("v1", SENTENCES, new Set([1]), { "1-1": { start: 1, end: -1 } }, 0);
  assert.deepEqual(clips, [{ video_id: "v1", start_s: 4.5, end_s: 5.9 }]);
});
