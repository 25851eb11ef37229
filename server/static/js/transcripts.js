// The transcript re-cut: a reel's sources open as transcripts with the reel's sentences ticked;
// tick or untick sentences, move a clip's cuts by a word, and re-render exactly those spans
// (POST /highlights/{id}/replan with explicit clips).

import { api } from "./client.js";
import { $, busy, clearError, el, errorText, showError } from "./dom.js";
import { hms } from "./format.js";
import { videoTitle } from "./library.js";
import { clipsFromTicks, tickedRuns, tickedSentences } from "./recut.js";

const state = { requestId: null, sources: [], onJob: null };

/** Load the transcripts of the reel's source videos and show them ticked. */
export async function showRecut(job) {
  const clips = job?.result?.clips || [];
  const form = $("recut-form");
  state.requestId = job?.request_id || null;
  if (!clips.length) {
    form.hidden = true;
    return;
  }
  const videoIds = [...new Set(clips.map((c) => c.video_id))];
  try {
    const transcripts = await Promise.all(
      videoIds.map((id) => api("GET", `/videos/${encodeURIComponent(id)}/transcript`)),
    );
    if (state.requestId !== job.request_id) return; // another job was opened meanwhile
    state.sources = transcripts.map((t) => ({
      videoId: t.video_id,
      sentences: t.sentences,
      ticked: tickedSentences(t.sentences, clips, t.video_id),
      nudges: {},
    }));
  } catch {
    form.hidden = true; // no transcript to show (e.g. a video removed since): no re-cut form
    return;
  }
  form.hidden = !state.sources.some((s) => s.sentences.length);
  renderSources();
}

function renderSources() {
  const shown = state.sources.filter((s) => s.sentences.length);
  $("recut-sources").replaceChildren(...shown.map(sourceBlock));
}

function sourceBlock(source) {
  const rows = source.sentences.map((s, i) =>
    el(
      "label",
      { class: "recut-sentence", dataset: { index: String(i) } },
      el("input", {
        type: "checkbox",
        checked: source.ticked.has(i),
        onchange: (event) => {
          if (event.currentTarget.checked) source.ticked.add(i);
          else source.ticked.delete(i);
          source.nudges = {};
          renderSources();
        },
      }),
      el("span", { class: "mono", text: ` ${hms(s.start_s)} ` }),
      s.text,
    ),
  );
  const cuts = clipsFromTicks(source.videoId, source.sentences, source.ticked, source.nudges);
  const runs = tickedRuns(source.ticked).map(([a, b], k) => {
    const key = `${a}-${b}`;
    const move = (side, steps) => () => {
      const nudge = (source.nudges[key] ||= { start: 0, end: 0 });
      nudge[side] += steps;
      renderSources();
    };
    const clip = cuts[k];
    return el(
      "div",
      { class: "recut-run", dataset: { run: key } },
      el("span", { class: "mono", text: `${hms(clip.start_s)}–${hms(clip.end_s)} ` }),
      nudgeButton("◀ start", "Start one word earlier", move("start", -1)),
      nudgeButton("start ▶", "Start one word later", move("start", 1)),
      nudgeButton("◀ end", "End one word earlier", move("end", -1)),
      nudgeButton("end ▶", "End one word later", move("end", 1)),
    );
  });
  return el(
    "fieldset",
    { class: "recut-source", dataset: { videoId: source.videoId } },
    el("legend", { text: videoTitle(source.videoId) }),
    el("div", { class: "recut-runs" }, runs),
    el("div", { class: "recut-sentences" }, rows),
  );
}

const nudgeButton = (text, label, onclick) =>
  el("button", { type: "button", class: "ghost small", text, "aria-label": label, onclick });

/** The spans the ticks and nudges describe, every source in order. */
export const recutClips = () =>
  state.sources.flatMap((s) => clipsFromTicks(s.videoId, s.sentences, s.ticked, s.nudges));

async function rerender(event) {
  event.preventDefault();
  clearError();
  const clips = recutClips();
  if (!state.requestId) return;
  if (!clips.length) {
    showError("Tick at least one sentence to re-render.");
    return;
  }
  await busy(event.currentTarget, async () => {
    try {
      const data = await api("POST", `/highlights/${encodeURIComponent(state.requestId)}/replan`, { clips });
      state.onJob?.(data.request_id);
    } catch (err) {
      showError(`Could not re-render. ${errorText(err)}`);
    }
  });
}

/** ``onJob(requestId)`` follows the re-render job the form starts. */
export function setupRecut(onJob) {
  state.onJob = onJob;
  $("recut-form").addEventListener("submit", rerender);
}
