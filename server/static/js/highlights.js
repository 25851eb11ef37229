// The Highlights view: the prompt form, the job's progress, the reel with its clips and files,
// re-plan with locked/excluded clips, and the history of recent reels (GET /api/v1/highlights).

import { api } from "./client.js";
import { $, busy, clearError, el, errorText, guardImeEnter, notice, present, showError } from "./dom.js";
import { clipCard } from "./clipcards.js";
import { basename, hms, parseOptionalNumber } from "./format.js";
import { cancelJob, isActive, pollJob } from "./jobs.js";
import { library, videoTitle } from "./library.js";
import { playOn, reportUnplayable } from "./player.js";
import { refreshHistory, setupHistory } from "./history.js";
import {
  clipsOf,
  emptyReelMessage,
  finishedNotice,
  isEmptyReel,
  reelDownloads,
  reelMeta,
  replanPlaceholder,
  statusLabel,
} from "./reel.js";
import { whenShown } from "./router.js";
import { setupRecut, showRecut } from "./transcripts.js";

const highlight = { requestId: null, pollToken: 0, result: null, locked: new Set(), excluded: new Set() };

function renderVideoFilter() {
  const box = $("hl-video-checks");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((c) => c.value));
  const ready = library.videos.filter((v) => v.status === "ready");
  if (!ready.length) {
    box.replaceChildren(el("span", { class: "help", text: "No ready videos yet." }));
    return;
  }
  const shown = [...box.querySelectorAll("input")].map((c) => c.value).join();
  if (ready.map((v) => v.video_id).join() === shown) return;
  box.replaceChildren(
    ...ready.map((v) =>
      el(
        "label",
        { class: "check" },
        el("input", {
          type: "checkbox",
          name: "video_ids",
          value: v.video_id,
          checked: checked.has(v.video_id),
        }),
        ` ${v.title || basename(v.path)}`,
      ),
    ),
  );
}

/** The value of a number field: null when empty; shows an error and returns NaN when invalid. */
function positiveOrNull(input, message) {
  const value = parseOptionalNumber(input.value);
  if (Number.isNaN(value) || (value !== null && value <= 0)) {
    showError(message);
    input.focus();
    return NaN;
  }
  return value;
}

async function startHighlight(event) {
  event.preventDefault();
  clearError();
  const prompt = $("hl-prompt").value.trim();
  if (!prompt) {
    showError("Describe the highlight reel you want, e.g. “a 30-second reel of the demo”.");
    $("hl-prompt").focus();
    return;
  }
  const duration = positiveOrNull(
    $("hl-duration"),
    "The target duration must be a positive number of seconds (or empty for automatic).",
  );
  if (Number.isNaN(duration)) return;
  const body = {
    prompt,
    order: $("hl-order").value,
    min_clip_s: parseOptionalNumber($("hl-min").value) ?? 2,
    max_clip_s: parseOptionalNumber($("hl-max").value) ?? 20,
    max_clips: parseOptionalNumber($("hl-max-clips").value) ?? 12,
  };
  if (duration !== null) body.target_duration_s = duration;
  const videoIds = [...document.querySelectorAll("#hl-video-checks input:checked")].map((c) => c.value);
  if (videoIds.length) body.video_ids = videoIds;
  await busy(event.currentTarget, async () => {
    try {
      const data = await api("POST", "/highlights", body);
      highlight.locked.clear();
      highlight.excluded.clear();
      openJob(data.request_id);
    } catch (err) {
      showError(`Could not start the highlight job. ${errorText(err)}`);
    }
  });
}

async function replan(event) {
  event.preventDefault();
  clearError();
  if (!highlight.requestId) return;
  const duration = positiveOrNull(
    $("replan-duration"),
    "The new target duration must be a positive number of seconds (or empty to keep it).",
  );
  if (Number.isNaN(duration)) return;
  const body = { locked_clip_ids: [...highlight.locked], excluded_clip_ids: [...highlight.excluded] };
  if (duration !== null) body.target_duration_s = duration;
  await busy(event.currentTarget, async () => {
    try {
      const data = await api("POST", `/highlights/${encodeURIComponent(highlight.requestId)}/replan`, body);
      $("replan-duration").value = "";
      openJob(data.request_id, { keepResult: true });
    } catch (err) {
      showError(`Could not re-plan. ${errorText(err)}`);
    }
  });
}

/** Show a job in the address (so reload and Back return to it) and follow it. */
function openJob(requestId, options = {}) {
  history.pushState(null, "", `#highlights/${encodeURIComponent(requestId)}`);
  followHighlight(requestId, options);
}

async function followHighlight(requestId, { keepResult = false, restoring = false } = {}) {
  const token = ++highlight.pollToken;
  highlight.requestId = requestId;
  $("hl-job").hidden = false;
  if (!keepResult && !restoring) $("hl-result").hidden = true;
  setJobState({ status: "queued", progress: 0, message: "Waiting for the job to start…" });
  let job;
  try {
    job = await pollJob({
      load: () => api("GET", `/highlights/${encodeURIComponent(requestId)}`),
      isCancelled: () => token !== highlight.pollToken,
      onUpdate: (update) => {
        if (restoring && update.prompt && !$("hl-prompt").value) $("hl-prompt").value = update.prompt;
        setJobState(update);
      },
    });
  } catch (err) {
    if (token !== highlight.pollToken) return;
    setJobState({ status: "failed", progress: 0, error: errorText(err) });
    showError(`Could not follow highlight job ${requestId}. ${errorText(err)}`);
    return;
  }
  if (!job) return; // a newer job took over
  refreshHistory();
  if (job.status === "done") {
    renderHighlight(job);
    $("hl-job").hidden = true;
    notice(finishedNotice(job));
  } else if (job.status === "cancelled") {
    $("hl-result").hidden = true;
    notice(finishedNotice(job));
  } else {
    $("hl-result").hidden = true;
    showError(finishedNotice(job));
  }
}

async function cancelHighlight() {
  const requestId = highlight.requestId;
  if (!requestId) return;
  clearError();
  $("hl-cancel").disabled = true;
  try {
    setJobState(await cancelJob(api, requestId));
  } catch (err) {
    showError(`Could not cancel the highlight job. ${errorText(err)}`);
  } finally {
    $("hl-cancel").disabled = false;
  }
}

function setJobState(job) {
  const value = Math.max(0, Math.min(1, Number(job.progress) || 0));
  const badge = $("hl-job-status");
  badge.textContent = statusLabel(job.status);
  badge.className = `badge status-${job.status}`;
  $("hl-progress").value = value;
  $("hl-progress-text").textContent = `${Math.round(value * 100)} %`;
  const failed = job.status === "failed";
  $("hl-job-message").textContent = failed ? job.error || job.message || "" : job.message || "";
  $("hl-job-message").classList.toggle("error-text", failed);
  $("hl-job").dataset.status = job.status;
  $("hl-cancel").hidden = !isActive(job);
}

function downloadLink({ url, label, name }) {
  return el("a", { class: "button ghost small", href: url, download: name, text: label });
}

function renderHighlight(job) {
  const result = job.result || {};
  highlight.result = result;
  const clips = clipsOf(job);
  const known = new Set(clips.map((c) => c.clip_id));
  for (const id of [...highlight.locked]) if (!known.has(id)) highlight.locked.delete(id);
  for (const id of [...highlight.excluded]) if (!known.has(id)) highlight.excluded.delete(id);
  const empty = isEmptyReel(job);
  $("hl-result").hidden = false;
  $("hl-result").dataset.requestId = job.request_id;
  $("hl-result").dataset.state = empty ? "empty" : "ready";
  $("hl-title").textContent = empty ? "No highlight reel" : result.title || "Highlight reel";
  $("hl-description").textContent = empty ? emptyReelMessage(job) : result.description || "";
  $("hl-meta").textContent = empty ? "" : reelMeta(result);
  renderReelPlayer(job, empty);
  const files = reelDownloads(result);
  $("hl-downloads").hidden = !files.length;
  $("hl-downloads").replaceChildren(
    ...present(
      files.length ? el("span", { class: "help", text: "Download: " }) : null,
      files.map(downloadLink),
    ),
  );
  $("hl-warnings").replaceChildren(...(result.warnings || []).map((w) => el("li", { text: w })));
  $("clip-count").textContent = clips.length ? `(${clips.length})` : "";
  const ctx = {
    locked: highlight.locked,
    excluded: highlight.excluded,
    hasReel: Boolean(result.reel_url),
    sourceTitle: (videoId) => videoTitle(videoId),
    playClip,
    playReel,
  };
  $("clip-list").replaceChildren(...clips.map((clip, index) => clipCard(clip, index, ctx)));
  $("hl-clips").hidden = empty;
  $("replan-form").hidden = empty;
  $("replan-duration").placeholder = replanPlaceholder(job);
  showRecut(empty ? null : job);
}

function renderReelPlayer(job, empty) {
  const result = job.result || {};
  const reel = $("reel-player");
  reel.hidden = empty;
  $("play-reel").hidden = empty || !result.reel_url;
  if (!empty && result.reel_url) {
    reel.src = result.reel_url;
    reel.dataset.kind = "reel";
    $("hl-now-playing").textContent = `Reel · ${result.title || job.prompt || ""}`;
  } else {
    reel.removeAttribute("src");
    reel.load();
    $("hl-now-playing").textContent = empty ? "" : "No reel was rendered; play the clips one by one.";
  }
  $("hl-now-playing").hidden = empty;
}

function playClip(clip, number) {
  clearError();
  if (!clip.url) {
    showError("This clip has no rendered file.");
    return;
  }
  const where = `${videoTitle(clip.video_id)} ${hms(clip.start_s)}–${hms(clip.end_s)}`;
  $("hl-now-playing").textContent = `Clip ${number}: ${clip.title || ""} (${where})`;
  playOn($("reel-player"), clip.url, "clip");
  $("reel-player").scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function playReel(startS = 0) {
  const result = highlight.result;
  if (!result || !result.reel_url) return;
  $("hl-now-playing").textContent = `Reel · ${result.title || ""}`;
  playOn($("reel-player"), result.reel_url, "reel", startS);
  $("reel-player").scrollIntoView({ block: "nearest", behavior: "smooth" });
}

export function setupHighlights() {
  reportUnplayable($("reel-player"));
  $("play-reel").addEventListener("click", () => playReel(0));
  $("hl-cancel").addEventListener("click", cancelHighlight);
  guardImeEnter($("hl-prompt"));
  $("highlight-form").addEventListener("submit", startHighlight);
  $("replan-form").addEventListener("submit", replan);
  setupRecut((requestId) => openJob(requestId, { keepResult: true }));
  document.addEventListener("library-changed", renderVideoFilter);
  setupHistory({
    currentId: () => highlight.requestId,
    open: (requestId) => {
      clearError();
      openJob(requestId, { restoring: true });
    },
  });
  whenShown("highlights", (requestId) => {
    refreshHistory();
    if (requestId && requestId !== highlight.requestId) followHighlight(requestId, { restoring: true });
  });
}
