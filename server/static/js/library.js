// The Library view: videos with their index state, index jobs with progress, add by path,
// upload, remove. Other views learn about changes through the "library-changed" event.

import { api, client } from "./client.js";
import { $, busy, clearError, el, errorText, notice, showError } from "./dom.js";
import { basename } from "./format.js";
import { cancelJob, isActive, pollJob } from "./jobs.js";
import { currentView } from "./router.js";
import { pendingJobCard, videoCard } from "./videocards.js";

const LIBRARY_REFRESH_MS = 2000;

export const library = {
  videos: [],
  byId: new Map(),
  jobs: new Map(), // request_id -> {request_id, video_id, label, status, progress, message, polled}
  timer: 0,
  loading: false,
  loadedOnce: false,
};

export function videoTitle(videoId, fallback = "") {
  const video = library.byId.get(videoId);
  return (video && (video.title || basename(video.path))) || fallback || videoId;
}

export async function refreshVideos() {
  if (library.loading) return;
  library.loading = true;
  clearTimeout(library.timer);
  try {
    const data = await api("GET", "/videos");
    const videos = Array.isArray(data) ? data : (data && (data.videos || data.items)) || [];
    library.videos = videos;
    library.byId = new Map(videos.map((v) => [v.video_id, v]));
    mergeServerJobs((data && data.jobs) || []);
    library.loadedOnce = true;
    renderVideos();
    document.dispatchEvent(new CustomEvent("library-changed"));
  } catch (err) {
    showError(`Could not load the library. ${errorText(err)}`);
  } finally {
    library.loading = false;
    scheduleLibraryRefresh();
  }
}

/** Index jobs the server reports as queued/running (also those started elsewhere). */
function mergeServerJobs(jobs) {
  const seen = new Set();
  for (const job of jobs) {
    if (!job || !job.request_id || (job.kind && job.kind !== "index")) continue;
    seen.add(job.request_id);
    const params = job.params || {};
    const entry = library.jobs.get(job.request_id) || {
      request_id: job.request_id,
      label: params.original_name || job.prompt || basename(params.path) || job.request_id,
      polled: false,
    };
    Object.assign(entry, {
      video_id: job.video_id || entry.video_id || null,
      status: job.status,
      progress: job.progress ?? entry.progress ?? 0,
      message: job.message || "",
    });
    library.jobs.set(job.request_id, entry);
  }
  // Jobs we do not poll ourselves disappear once the server stops listing them.
  for (const [id, entry] of library.jobs) if (!entry.polled && !seen.has(id)) library.jobs.delete(id);
}

function scheduleLibraryRefresh() {
  clearTimeout(library.timer);
  const active =
    library.videos.some((v) => v.status === "queued" || v.status === "indexing") ||
    [...library.jobs.values()].some(isActive);
  if (active) library.timer = setTimeout(refreshVideos, LIBRARY_REFRESH_MS);
}

function jobForVideo(videoId) {
  for (const job of library.jobs.values()) if (job.video_id === videoId) return job;
  return null;
}

async function cancelIndexJob(job, button) {
  clearError();
  button.disabled = true;
  try {
    const answer = await cancelJob(api, job.request_id);
    Object.assign(job, { status: answer.status, message: answer.message || job.message });
    if (answer.status === "cancelled") notice(`Cancelled indexing ${job.label}.`);
  } catch (err) {
    showError(`Could not cancel indexing ${job.label}. ${errorText(err)}`);
    button.disabled = false;
  }
  refreshVideos();
}

const cardActions = {
  cancel: (job, button) => cancelIndexJob(job, button),
  remove: (video) => removeVideo(video),
  searchIn: (video) => document.dispatchEvent(new CustomEvent("search-in-video", { detail: video })),
};

const cardSignatures = new WeakMap();

function renderVideos() {
  const list = $("video-list");
  const wanted = [];
  const listed = new Set(library.videos.map((v) => v.video_id));
  for (const video of library.videos) {
    const sig = JSON.stringify([video, jobForVideo(video.video_id)]);
    wanted.push({
      key: `v:${video.video_id}`,
      sig,
      make: () => videoCard(video, jobForVideo(video.video_id), cardActions),
    });
  }
  for (const job of library.jobs.values()) {
    if (isActive(job) && !(job.video_id && listed.has(job.video_id))) {
      wanted.push({
        key: `j:${job.request_id}`,
        sig: JSON.stringify(job),
        make: () => pendingJobCard(job, cardActions),
      });
    }
  }
  // Keyed update: keep cards whose content did not change (focus and open <details> survive).
  const existing = new Map([...list.children].map((li) => [li.dataset.key, li]));
  const fresh = wanted.map(({ key, sig, make }) => {
    const old = existing.get(key);
    if (old && cardSignatures.get(old) === sig) return old;
    const card = make();
    card.dataset.key = key;
    cardSignatures.set(card, sig);
    if (old && old.querySelector("details[open]")) card.querySelector("details")?.setAttribute("open", "");
    return card;
  });
  const active = document.activeElement;
  list.replaceChildren(...fresh);
  if (active && !document.contains(active) && fresh.length) fresh[0].querySelector("button")?.focus?.();
  $("video-count").textContent = library.videos.length ? `(${library.videos.length})` : "";
  $("library-empty").hidden = fresh.length > 0 || !library.loadedOnce;
}

async function followIndexJob(entry) {
  const path = `/jobs/${encodeURIComponent(entry.request_id)}`;
  try {
    await pollJob({
      load: () => api("GET", path),
      onUpdate: (job) => {
        entry.status = job.status;
        entry.progress = job.progress ?? entry.progress;
        entry.message = job.message || "";
        if (job.video_id && !entry.video_id) entry.video_id = job.video_id;
        if (job.status === "failed") {
          showError(`Indexing ${entry.label} failed: ${job.error || job.message || "unknown error"}`);
        } else if (job.status === "done") notice(`Indexed ${entry.label}.`);
        else if (job.status === "cancelled") notice(`Cancelled indexing ${entry.label}.`);
        renderVideos();
        if (currentView() === "library" || !isActive(job)) refreshVideos();
      },
    });
  } catch (err) {
    showError(`Lost track of the indexing job for ${entry.label}. ${errorText(err)}`);
    entry.status = "failed";
  }
  if (entry.status === "done" || entry.status === "cancelled") library.jobs.delete(entry.request_id);
  refreshVideos();
}

function trackIndexJob(job, { videoId = null, label = "" } = {}) {
  if (!job || !job.request_id) return;
  const entry = library.jobs.get(job.request_id) || { request_id: job.request_id, progress: 0, message: "" };
  if (entry.polled) return;
  Object.assign(entry, {
    video_id: videoId || job.video_id || entry.video_id || null,
    label: label || entry.label || videoId || job.request_id,
    status: job.status || entry.status || "queued",
    polled: true,
  });
  library.jobs.set(job.request_id, entry);
  renderVideos();
  followIndexJob(entry);
}

async function addByPath(event) {
  event.preventDefault();
  clearError();
  const input = $("add-path");
  const path = input.value.trim();
  if (!path) {
    showError("Type the path of a video file on the server first.");
    input.focus();
    return;
  }
  await busy(event.currentTarget, async () => {
    try {
      const data = await api("POST", "/videos", { path });
      input.value = "";
      notice(`Queued ${basename(path)} for indexing.`);
      trackIndexJob(data.job || data, { videoId: data.video_id, label: basename(path) });
      await refreshVideos();
    } catch (err) {
      showError(`Could not add ${path}. ${errorText(err)}`);
      input.focus();
    }
  });
}

async function uploadFile(event) {
  event.preventDefault();
  clearError();
  const input = $("upload-file");
  const file = input.files && input.files[0];
  if (!file) {
    showError("Choose a video file to upload first.");
    input.focus();
    return;
  }
  const bar = $("upload-progress");
  bar.hidden = false;
  bar.value = 0;
  await busy(event.currentTarget, async () => {
    try {
      const form = new FormData();
      form.append("file", file, file.name);
      const data = await client.upload("/videos", form, (fraction) => (bar.value = fraction));
      input.value = "";
      notice(`Uploaded ${file.name}; indexing it now.`);
      trackIndexJob(data.job || data, { videoId: data.video_id, label: file.name });
      await refreshVideos();
    } catch (err) {
      showError(`Could not upload ${file.name}. ${errorText(err)}`);
    } finally {
      bar.hidden = true;
    }
  });
}

async function removeVideo(video) {
  const title = video.title || basename(video.path) || video.video_id;
  const question = `Remove “${title}” from the library?\nIts index and thumbnails are deleted; the video file itself stays.`;
  if (!window.confirm(question)) return;
  clearError();
  try {
    await api("DELETE", `/videos/${encodeURIComponent(video.video_id)}`);
    notice(`Removed ${title}.`);
    for (const [id, job] of library.jobs) if (job.video_id === video.video_id) library.jobs.delete(id);
  } catch (err) {
    showError(`Could not remove ${title}. ${errorText(err)}`);
  }
  await refreshVideos();
  $("refresh-videos").focus();
}

export function setupLibrary() {
  $("add-path-form").addEventListener("submit", addByPath);
  $("upload-form").addEventListener("submit", uploadFile);
  $("refresh-videos").addEventListener("click", () => {
    clearError();
    refreshVideos();
  });
}
