// The Library's cards: a video with its index state, models and segment counts, or an index job
// whose video is not listed yet. `actions` = {cancel(job, button), remove(video), searchIn(video)}.

import { el, thumbImage } from "./dom.js";
import {
  basename,
  hms,
  mediaFileUrl,
  modalityName,
  modelLines,
  sortModalities,
  speechLanguageLabel,
} from "./format.js";
import { isActive } from "./jobs.js";

function statusBadge(status) {
  const labels = {
    queued: "Queued",
    indexing: "Indexing",
    running: "Indexing",
    ready: "Ready",
    failed: "Failed",
    done: "Ready",
    cancelled: "Cancelled",
  };
  return el("span", { class: `badge status-${status}`, text: labels[status] || status });
}

function progressBlock(job, actions) {
  const value = Math.max(0, Math.min(1, Number(job.progress) || 0));
  return el(
    "div",
    { class: "job-progress" },
    el("progress", { max: "1", value: String(value), "aria-label": `Indexing progress of ${job.label}` }),
    el("span", {
      class: "mono small",
      text: `${Math.round(value * 100)} %${job.message ? ` · ${job.message}` : ""}`,
    }),
    el("button", {
      type: "button",
      class: "ghost small",
      text: "Cancel",
      "aria-label": `Cancel indexing ${job.label}`,
      onclick: (event) => actions.cancel(job, event.currentTarget),
    }),
  );
}

function modelsBlock(video) {
  const models = sortModalities(Object.entries(video.models || {}));
  if (!models.length) return null;
  return el(
    "details",
    { class: "models" },
    el("summary", { text: "Models used" }),
    el(
      "dl",
      {},
      models.map(([modality, name]) => [
        el("dt", { text: modalityName(modality) }),
        el(
          "dd",
          { title: name },
          modelLines(name).map((line) => el("span", { class: "model-line", text: line })),
        ),
      ]),
    ),
  );
}

function countsBlock(video) {
  const counts = sortModalities(Object.entries(video.counts || {}));
  if (!counts.length) return null;
  return el(
    "ul",
    { class: "chips", "aria-label": "Indexed segments per modality" },
    counts.map(([modality, n]) =>
      el("li", {
        class: `chip m-${modality}`,
        title: `${n} ${modalityName(modality).toLowerCase()} segments indexed`,
        text: `${modalityName(modality)} ${n}`,
      }),
    ),
  );
}

/** A library video; `job` is its running index job (or null). */
export function videoCard(video, job, actions) {
  const title = video.title || basename(video.path) || video.video_id;
  const running = isActive(job) && video.status !== "failed";
  const status = running ? (video.status === "ready" ? "indexing" : video.status) : video.status;
  const thumbUrl = video.thumbnail_url || mediaFileUrl(video.thumbnail);
  const thumb = thumbImage(thumbUrl);
  const titleId = `video-title-${video.video_id}`;
  return el(
    "li",
    {
      class: "card video-card",
      dataset: { videoId: video.video_id, status: status || "" },
      "aria-labelledby": titleId,
    },
    el(
      "div",
      { class: "thumb" },
      thumb,
      video.duration_s ? el("span", { class: "time-badge", text: hms(video.duration_s) }) : null,
    ),
    el(
      "div",
      { class: "card-body" },
      el("h3", { class: "card-title", id: titleId, text: title }),
      el("p", { class: "path mono", title: video.path, text: video.path }),
      el(
        "p",
        { class: "meta-line" },
        statusBadge(status),
        el("span", { text: video.duration_s ? `Duration ${hms(video.duration_s)}` : "" }),
        video.width && video.height ? el("span", { text: `${video.width}×${video.height}` }) : null,
      ),
      speechLanguageLabel(video)
        ? el("p", {
            class: `meta-line language${video.speech_language_uncertain ? " uncertain" : ""}`,
            text: speechLanguageLabel(video),
          })
        : null,
      isActive(job) ? progressBlock(job, actions) : null,
      video.status === "failed" && video.error ? el("p", { class: "error-text", text: video.error }) : null,
      countsBlock(video),
      modelsBlock(video),
      el(
        "div",
        { class: "card-actions" },
        video.status === "ready"
          ? el("button", {
              type: "button",
              class: "ghost small",
              text: "Search in this video",
              onclick: () => actions.searchIn(video),
            })
          : null,
        el("button", {
          type: "button",
          class: "danger small",
          text: "Remove",
          "aria-label": `Remove ${title}`,
          onclick: () => actions.remove(video),
        }),
      ),
    ),
  );
}

/** An index job whose video is not in the library yet. */
export function pendingJobCard(job, actions) {
  return el(
    "li",
    { class: "card video-card pending", dataset: { jobId: job.request_id, status: job.status } },
    el("div", { class: "thumb" }, thumbImage(null)),
    el(
      "div",
      { class: "card-body" },
      el("h3", { class: "card-title", text: job.label }),
      el("p", { class: "meta-line" }, statusBadge(job.status === "running" ? "indexing" : job.status)),
      progressBlock(job, actions),
    ),
  );
}
