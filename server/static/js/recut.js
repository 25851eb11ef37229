// Pure helpers for the transcript re-cut: a reel's sources as sentences to tick, nudged cuts,
// and the explicit clips ({video_id, start_s, end_s}) a re-plan renders as given.

const mid = (s) => (Number(s.start_s) + Number(s.end_s)) / 2;

/** Indexes of the sentences a reel's clips of this video hold (midpoint inside a clip). */
export function tickedSentences(sentences, clips, videoId) {
  const mine = (clips || []).filter((c) => c.video_id === videoId);
  const ticked = new Set();
  (sentences || []).forEach((s, i) => {
    if (mine.some((c) => c.start_s <= mid(s) && mid(s) <= c.end_s)) ticked.add(i);
  });
  return ticked;
}

/** Runs of consecutive ticked sentences as [first, last] index pairs, in time order. */
export function tickedRuns(ticked) {
  const sorted = [...ticked].sort((a, b) => a - b);
  const runs = [];
  for (const i of sorted) {
    const last = runs[runs.length - 1];
    if (last && last[1] === i - 1) last[1] = i;
    else runs.push([i, i]);
  }
  return runs;
}

/** Word boundaries (starts and ends) of the sentences, sorted, each once. */
function boundaries(sentences, side) {
  const times = [];
  for (const s of sentences || []) {
    const words = Array.isArray(s.words) && s.words.length ? s.words : [s];
    for (const w of words) times.push(Number(side === "start" ? w.start_s : w.end_s));
  }
  return [...new Set(times)].sort((a, b) => a - b);
}

/** A cut moved by ``steps`` whole words (negative: earlier), staying on word boundaries. */
export function nudgeCut(sentences, timeS, side, steps) {
  const times = boundaries(sentences, side);
  if (!times.length || !steps) return timeS;
  let at = times.findIndex((t) => Math.abs(t - timeS) < 1e-3);
  if (at < 0) at = steps > 0 ? times.findIndex((t) => t > timeS) - 1 : times.findIndex((t) => t >= timeS);
  if (at < -1) at = times.length - 1;
  const next = Math.min(times.length - 1, Math.max(0, at + steps));
  return times[next];
}

/**
 * The explicit clips of one video: a clip per run of ticked sentences, its cuts on the first
 * sentence's start and the last one's end, moved by ``nudges`` ({"first-last": {start, end}}
 * in words), padded by ``padS`` into the video (never below 0).
 */
export function clipsFromTicks(videoId, sentences, ticked, nudges = {}, padS = 0.1) {
  return tickedRuns(ticked).map(([a, b]) => {
    const key = `${a}-${b}`;
    const move = nudges[key] || {};
    const start = nudgeCut(sentences, Number(sentences[a].start_s), "start", move.start || 0);
    const end = nudgeCut(sentences, Number(sentences[b].end_s), "end", move.end || 0);
    return {
      video_id: videoId,
      start_s: Math.max(0, +(start - padS).toFixed(3)),
      end_s: +(Math.max(end, start + 0.5) + padS).toFixed(3),
    };
  });
}
