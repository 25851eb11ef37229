// SceneSpark web page: Library, Search and Highlights over the HTTP API (/api/v1).
// Vanilla JS, no build step, no external resources. DOM is built with createElement only
// (never innerHTML with API data), so titles, transcripts and paths cannot inject markup.

const API = "/api/v1";
const POLL_MS = 1000;
const LIBRARY_REFRESH_MS = 2000;
const VIEWS = ["library", "search", "highlights"];

const $ = (id) => document.getElementById(id);

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

/** Build an element: el("p", {class: "x", text: "hi"}, child, ...). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Seconds → "HH:MM:SS". */
export function hms(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(h)}:${pad(m)}:${pad(s % 60)}`;
}

/** Seconds → short human duration: "7.5 s", "2 min 05 s", "1 h 02 min". */
function humanDuration(seconds) {
  const s = Number(seconds) || 0;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

function basename(path) {
  return String(path || "").split(/[\\/]/).filter(Boolean).pop() || String(path || "");
}

function mediaFileUrl(relpath) {
  if (!relpath) return "";
  if (/^\/|^https?:/.test(relpath)) return relpath;
  return `/media/files/${relpath.split("/").map(encodeURIComponent).join("/")}`;
}

function videoUrl(videoId) {
  return `/media/videos/${encodeURIComponent(videoId)}`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------------------------------
// API access with readable errors
// ------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status = 0, problem = null) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

/** One readable sentence from a problem+json body (RFC 9457). */
function problemMessage(problem, status) {
  if (!problem || typeof problem !== "object") return `The server answered with an error (HTTP ${status}).`;
  const title = problem.title || `HTTP ${status}`;
  let text = problem.detail ? `${title}: ${problem.detail}` : title;
  if (Array.isArray(problem.errors) && problem.errors.length) {
    const items = problem.errors
      .slice(0, 5)
      .map((e) => (e && typeof e === "object" ? `${e.field ? `${e.field}: ` : ""}${e.message || ""}` : String(e)))
      .filter(Boolean);
    if (items.length && !items.every((item) => text.includes(item))) text += ` (${items.join("; ")})`;
  }
  if (problem.hint) text += `. Hint: ${problem.hint}`;
  return text;
}

async function api(method, path, body, { form = false } = {}) {
  const init = { method, headers: { Accept: "application/json, application/problem+json" } };
  if (body !== undefined) {
    if (form) init.body = body;
    else {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
  }
  let response;
  try {
    response = await fetch(`${API}${path}`, init);
  } catch {
    throw new ApiError("Cannot reach the SceneSpark server. Check that it is running and try again.");
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  if (type.includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(problemMessage(data, response.status), response.status, data);
  if (data === null && type.includes("json")) throw new ApiError("The server sent an unreadable answer.");
  return data;
}

// ------------------------------------------------------------------------------------------
// Messages: one alert region for errors, one status line for notices
// ------------------------------------------------------------------------------------------

function showError(message) {
  $("alert-text").textContent = message;
  const alert = $("alert");
  alert.hidden = false;
  const box = alert.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) alert.scrollIntoView({ block: "start", behavior: "smooth" });
}

function clearError() {
  $("alert").hidden = true;
  $("alert-text").textContent = "";
}

let noticeTimer = 0;
function notice(message, { sticky = false } = {}) {
  clearTimeout(noticeTimer);
  $("notice").textContent = message;
  if (!sticky && message) noticeTimer = setTimeout(() => ($("notice").textContent = ""), 6000);
}

function errorText(err) {
  return err instanceof ApiError ? err.message : `Something went wrong: ${err && err.message ? err.message : err}`;
}

/** Disable a form's buttons while a request runs. */
async function busy(form, task) {
  const buttons = [...form.querySelectorAll("button")];
  form.setAttribute("aria-busy", "true");
  buttons.forEach((b) => (b.disabled = true));
  try {
    return await task();
  } finally {
    form.removeAttribute("aria-busy");
    buttons.forEach((b) => (b.disabled = false));
  }
}

// ------------------------------------------------------------------------------------------
// Views (tabs) and routing: #library, #search, #highlights, #highlights/<request_id>
// ------------------------------------------------------------------------------------------

let currentView = "library";

function showView(view, { focusTab = false } = {}) {
  if (!VIEWS.includes(view)) view = "library";
  currentView = view;
  for (const name of VIEWS) {
    const tab = $(`tab-${name}`);
    const selected = name === view;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`view-${name}`).hidden = !selected;
  }
  document.title = `${view[0].toUpperCase()}${view.slice(1)} · SceneSpark`;
  if (focusTab) $(`tab-${view}`).focus();
  if (view === "library") refreshVideos();
}

function routeFromHash() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, ""));
  const [view, arg] = hash.split("/");
  showView(VIEWS.includes(view) ? view : "library");
  if (view === "highlights" && arg && arg !== highlight.requestId) {
    followHighlight(arg, { restoring: true });
  }
}

function setupTabs() {
  const tabs = VIEWS.map((name) => $(`tab-${name}`));
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => {
      if (location.hash.split("/")[0] !== `#${tab.dataset.view}`) history.pushState(null, "", `#${tab.dataset.view}`);
      showView(tab.dataset.view);
    });
    tab.addEventListener("keydown", (event) => {
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
      else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
      else if (event.key === "Home") next = tabs[0];
      else if (event.key === "End") next = tabs[tabs.length - 1];
      if (next) {
        event.preventDefault();
        history.pushState(null, "", `#${next.dataset.view}`);
        showView(next.dataset.view, { focusTab: true });
      }
    });
  });
  window.addEventListener("popstate", routeFromHash);
  window.addEventListener("hashchange", routeFromHash);
}

// ------------------------------------------------------------------------------------------
// Library
// ------------------------------------------------------------------------------------------

const library = {
  videos: [],
  byId: new Map(),
  jobs: new Map(), // request_id -> {request_id, video_id, label, status, progress, message}
  timer: 0,
  loading: false,
  loadedOnce: false,
};

function videoTitle(videoId, fallback = "") {
  const video = library.byId.get(videoId);
  return (video && (video.title || basename(video.path))) || fallback || videoId;
}

async function refreshVideos() {
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
    renderVideoFilter();
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
    [...library.jobs.values()].some((j) => j.status === "queued" || j.status === "running");
  if (active) library.timer = setTimeout(refreshVideos, LIBRARY_REFRESH_MS);
}

function jobForVideo(videoId) {
  for (const job of library.jobs.values()) if (job.video_id === videoId) return job;
  return null;
}

function statusBadge(status) {
  const labels = { queued: "Queued", indexing: "Indexing", running: "Indexing", ready: "Ready", failed: "Failed", done: "Ready" };
  return el("span", { class: `badge status-${status}`, text: labels[status] || status });
}

function progressBlock(job) {
  const value = Math.max(0, Math.min(1, Number(job.progress) || 0));
  return el(
    "div",
    { class: "job-progress" },
    el("progress", { max: "1", value: String(value), "aria-label": `Indexing progress of ${job.label}` }),
    el("span", { class: "mono small", text: `${Math.round(value * 100)} %${job.message ? ` · ${job.message}` : ""}` }),
  );
}

function videoCard(video) {
  const job = jobForVideo(video.video_id);
  const title = video.title || basename(video.path) || video.video_id;
  const status = job && (job.status === "queued" || job.status === "running") && video.status !== "failed" ? (video.status === "ready" ? "indexing" : video.status) : video.status;
  const thumbUrl = video.thumbnail_url || mediaFileUrl(video.thumbnail);
  const thumb = thumbUrl
    ? el("img", { src: thumbUrl, alt: "", loading: "lazy" })
    : el("div", { class: "thumb-placeholder", "aria-hidden": "true" });
  const counts = sortModalities(Object.entries(video.counts || {}));
  const models = sortModalities(Object.entries(video.models || {}));
  const titleId = `video-title-${video.video_id}`;
  return el(
    "li",
    { class: "card video-card", dataset: { videoId: video.video_id, status: status || "" }, "aria-labelledby": titleId },
    el("div", { class: "thumb" }, thumb, video.duration_s ? el("span", { class: "time-badge", text: hms(video.duration_s) }) : null),
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
      job && (job.status === "queued" || job.status === "running") ? progressBlock(job) : null,
      video.status === "failed" && video.error ? el("p", { class: "error-text", text: video.error }) : null,
      counts.length
        ? el(
            "ul",
            { class: "chips", "aria-label": "Indexed segments per modality" },
            counts.map(([modality, n]) =>
              el("li", { class: `chip m-${modality}`, title: `${n} ${modalityName(modality).toLowerCase()} segments indexed`, text: `${modalityName(modality)} ${n}` }),
            ),
          )
        : null,
      models.length
        ? el(
            "details",
            { class: "models" },
            el("summary", { text: "Models used" }),
            el(
              "dl",
              {},
              models.map(([modality, name]) => [
                el("dt", { text: modalityName(modality) }),
                el("dd", { title: name }, modelLines(name).map((line) => el("span", { class: "model-line", text: line }))),
              ]),
            ),
          )
        : null,
      el(
        "div",
        { class: "card-actions" },
        video.status === "ready"
          ? el("button", { type: "button", class: "ghost small", text: "Search in this video", onclick: () => searchInVideo(video) })
          : null,
        el("button", {
          type: "button",
          class: "danger small",
          text: "Remove",
          "aria-label": `Remove ${title}`,
          onclick: () => removeVideo(video),
        }),
      ),
    ),
  );
}

function pendingJobCard(job) {
  return el(
    "li",
    { class: "card video-card pending", dataset: { jobId: job.request_id, status: job.status } },
    el("div", { class: "thumb" }, el("div", { class: "thumb-placeholder", "aria-hidden": "true" })),
    el(
      "div",
      { class: "card-body" },
      el("h3", { class: "card-title", text: job.label }),
      el("p", { class: "meta-line" }, statusBadge(job.status === "running" ? "indexing" : job.status)),
      progressBlock(job),
    ),
  );
}

/** "backend:/long/path/name@fp:abc|backend2:..." → ["backend · name", "backend2 · ..."]. */
function modelLines(signature) {
  return String(signature || "")
    .split("|")
    .filter(Boolean)
    .map((part) => {
      const at = part.lastIndexOf("@");
      const body = at > 0 ? part.slice(0, at) : part;
      const colon = body.indexOf(":");
      const backend = colon > 0 ? body.slice(0, colon) : "";
      const name = (colon > 0 ? body.slice(colon + 1) : body).replace(/\/[^\s|@]+/g, (path) => {
        const parts = path.split("/").filter(Boolean);
        let last = parts.pop() || path;
        if (/^models?$/.test(last) && parts.length) last = parts.pop();
        return last;
      });
      return backend ? `${backend} · ${name}` : name;
    });
}

const MODALITY_ORDER = ["speech", "ocr", "visual", "text", "llm"];

function sortModalities(entries) {
  const rank = (m) => (MODALITY_ORDER.includes(m) ? MODALITY_ORDER.indexOf(m) : MODALITY_ORDER.length);
  return entries.sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

function modalityName(modality) {
  return { speech: "Speech", ocr: "On-screen text", visual: "Visual", text: "Text" }[modality] || modality;
}

const cardSignatures = new WeakMap();

function renderVideos() {
  const list = $("video-list");
  const wanted = [];
  const listed = new Set(library.videos.map((v) => v.video_id));
  for (const video of library.videos) wanted.push({ key: `v:${video.video_id}`, sig: JSON.stringify([video, jobForVideo(video.video_id)]), make: () => videoCard(video) });
  for (const job of library.jobs.values()) {
    if ((job.status === "queued" || job.status === "running") && !(job.video_id && listed.has(job.video_id))) {
      wanted.push({ key: `j:${job.request_id}`, sig: JSON.stringify(job), make: () => pendingJobCard(job) });
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
    if (old) {
      const open = old.querySelector("details[open]");
      if (open) card.querySelector("details")?.setAttribute("open", "");
    }
    return card;
  });
  const active = document.activeElement;
  list.replaceChildren(...fresh);
  if (active && !document.contains(active) && fresh.length) fresh[0].querySelector("button")?.focus?.();
  $("video-count").textContent = library.videos.length ? `(${library.videos.length})` : "";
  $("library-empty").hidden = fresh.length > 0 || !library.loadedOnce;
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
  pollIndexJob(entry);
}

async function pollIndexJob(entry) {
  let failures = 0;
  while (entry.status === "queued" || entry.status === "running") {
    await sleep(POLL_MS);
    try {
      const job = await api("GET", `/jobs/${encodeURIComponent(entry.request_id)}`);
      failures = 0;
      entry.status = job.status;
      entry.progress = job.progress ?? entry.progress;
      entry.message = job.message || "";
      if (job.video_id && !entry.video_id) entry.video_id = job.video_id;
      if (job.status === "failed") {
        showError(`Indexing ${entry.label} failed: ${job.error || job.message || "unknown error"}`);
      } else if (job.status === "done") {
        notice(`Indexed ${entry.label}.`);
      }
    } catch (err) {
      failures += 1;
      if (failures >= 5) {
        showError(`Lost track of the indexing job for ${entry.label}. ${errorText(err)}`);
        entry.status = "failed";
      }
    }
    renderVideos();
    if (currentView === "library" || entry.status === "done" || entry.status === "failed") refreshVideos();
  }
  if (entry.status === "done") library.jobs.delete(entry.request_id);
  refreshVideos();
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

function uploadWithProgress(file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API}/videos`);
    xhr.setRequestHeader("Accept", "application/json, application/problem+json");
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded / e.total));
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data || {});
      else reject(new ApiError(problemMessage(data, xhr.status), xhr.status, data));
    });
    xhr.addEventListener("error", () => reject(new ApiError("Cannot reach the SceneSpark server. Check that it is running and try again.")));
    xhr.addEventListener("abort", () => reject(new ApiError("The upload was cancelled.")));
    xhr.send(form);
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
      const data = await uploadWithProgress(file, (fraction) => (bar.value = fraction));
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
  if (!window.confirm(`Remove “${title}” from the library?\nIts index and thumbnails are deleted; the video file itself stays.`)) return;
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

function searchInVideo(video) {
  search.videoIds = [video.video_id];
  $("search-meta").textContent = `Searching only in ${video.title || basename(video.path)}.`;
  history.pushState(null, "", "#search");
  showView("search");
  $("search-query").focus();
}

// ------------------------------------------------------------------------------------------
// Search
// ------------------------------------------------------------------------------------------

const search = { hits: [], videoIds: null, span: null, pauseArmed: false, videoId: null };

async function runSearch(event) {
  event.preventDefault();
  clearError();
  const input = $("search-query");
  const query = input.value.trim();
  if (!query) {
    showError("Type what you are looking for, then press Search.");
    input.focus();
    return;
  }
  const modalities = [...document.querySelectorAll('#search-form input[name="modality"]:checked')].map((c) => c.value);
  if (!modalities.length) {
    showError("Choose at least one place to look in (speech, on-screen text or visuals).");
    return;
  }
  const body = { query, top_k: Number($("search-topk").value) || 10, group_by: "span" };
  if (modalities.length < 3) body.modalities = modalities;
  if (search.videoIds) body.video_ids = search.videoIds;
  await busy(event.currentTarget, async () => {
    $("search-meta").textContent = "Searching…";
    try {
      const data = await api("POST", "/search", body);
      search.hits = data.results || [];
      renderHits(data, query);
    } catch (err) {
      $("search-meta").textContent = "";
      showError(`Search failed. ${errorText(err)}`);
    }
  });
}

function renderHits(data, query) {
  const list = $("hit-list");
  const hits = search.hits;
  const scope = search.videoIds ? ` in ${search.videoIds.map((id) => videoTitle(id)).join(", ")}` : "";
  const took = typeof data.took_ms === "number" ? ` in ${Math.round(data.took_ms)} ms` : "";
  const meta = $("search-meta");
  meta.replaceChildren(
    hits.length
      ? `${hits.length} result${hits.length === 1 ? "" : "s"} for “${query}”${scope}${took}.`
      : `Nothing relevant found for “${query}”${scope}. Try other words, or check that the videos are indexed.`,
  );
  if (search.videoIds) {
    meta.append(
      " ",
      el("button", {
        type: "button",
        class: "link",
        text: "Search the whole library",
        onclick: () => {
          search.videoIds = null;
          $("search-form").requestSubmit();
        },
      }),
    );
  }
  list.replaceChildren(...hits.map((hit, index) => hitCard(hit, index)));
}

function hitCard(hit, index) {
  const title = hit.video_title || videoTitle(hit.video_id);
  const span = `${hms(hit.start_s)}–${hms(hit.end_s)}`;
  const ev = hit.evidence || {};
  const pct = Math.round((Number(hit.score) || 0) * 100);
  const playLabel = `Play ${title} from ${hms(hit.start_s)} to ${hms(hit.end_s)}`;
  const scores = sortModalities(Object.entries(hit.modality_scores || {}).filter(([, v]) => v > 0));
  const card = el(
    "li",
    { class: "card hit-card", dataset: { index: String(index), start: String(hit.start_s), end: String(hit.end_s), videoId: hit.video_id } },
    el(
      "div",
      { class: "thumb" },
      hit.thumbnail_url ? el("img", { src: hit.thumbnail_url, alt: "", loading: "lazy" }) : el("div", { class: "thumb-placeholder", "aria-hidden": "true" }),
      el("span", { class: "time-badge", text: hms(hit.start_s) }),
    ),
    el(
      "div",
      { class: "card-body" },
      el(
        "h3",
        { class: "card-title" },
        el("button", { type: "button", class: "hit-play", "aria-label": playLabel }, el("span", { class: "play-icon", "aria-hidden": "true" }), title),
      ),
      el("p", { class: "meta-line" }, el("span", { class: "mono", text: span }), el("span", { text: humanDuration(hit.end_s - hit.start_s) })),
      el(
        "div",
        { class: "score-line" },
        el("span", { class: "score-bar", "aria-hidden": "true" }, el("span", { style: `width:${pct}%` })),
        el("span", { class: `badge conf-${hit.confidence}`, text: `${pct}% · ${hit.confidence} confidence` }),
      ),
      scores.length
        ? el(
            "ul",
            { class: "chips", "aria-label": "Score per modality" },
            scores.map(([m, v]) => el("li", { class: `chip m-${m}`, text: `${modalityName(m)} ${Math.round(v * 100)}%` })),
          )
        : null,
      ev.transcript ? el("blockquote", { class: "evidence speech" }, el("span", { class: "ev-label", text: "Said: " }), `“${ev.transcript}”`) : null,
      ev.ocr_text ? el("p", { class: "evidence ocr" }, el("span", { class: "ev-label", text: "On screen: " }), `“${ev.ocr_text}”`) : null,
      ev.visual_labels || ev.frame_time_s != null
        ? el(
            "p",
            { class: "evidence visual" },
            el("span", { class: "ev-label", text: "Seen: " }),
            ev.visual_labels || "matching frame",
            ev.frame_time_s != null ? ` (frame at ${hms(ev.frame_time_s)})` : "",
          )
        : null,
    ),
  );
  card.addEventListener("click", (event) => {
    if (event.target.closest("a")) return;
    playHit(hit, card);
  });
  return card;
}

const player = () => $("search-player");

function waitFor(target, eventName, timeoutMs = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${eventName}`));
    }, timeoutMs);
    const onEvent = () => {
      cleanup();
      resolve();
    };
    const onError = () => {
      cleanup();
      reject(new Error("the video could not be loaded"));
    };
    function cleanup() {
      clearTimeout(timer);
      target.removeEventListener(eventName, onEvent);
      target.removeEventListener("error", onError);
    }
    target.addEventListener(eventName, onEvent, { once: true });
    target.addEventListener("error", onError, { once: true });
  });
}

async function playHit(hit, card) {
  clearError();
  document.querySelectorAll(".hit-card[aria-current]").forEach((c) => c.removeAttribute("aria-current"));
  card?.setAttribute("aria-current", "true");
  const video = player();
  const title = hit.video_title || videoTitle(hit.video_id);
  search.span = { start: Number(hit.start_s), end: Number(hit.end_s), videoId: hit.video_id };
  search.pauseArmed = true;
  video.dataset.spanStart = String(hit.start_s);
  video.dataset.spanEnd = String(hit.end_s);
  video.dataset.state = "loading";
  $("search-now-playing").textContent = `${title} · ${hms(hit.start_s)}–${hms(hit.end_s)}`;
  $("search-span-text").textContent = `Span ${hms(hit.start_s)}–${hms(hit.end_s)}`;
  $("replay-span").disabled = false;
  try {
    if (search.videoId !== hit.video_id || !video.currentSrc) {
      search.videoId = hit.video_id;
      const loaded = waitFor(video, "loadedmetadata");
      video.src = videoUrl(hit.video_id);
      video.load();
      await loaded;
    }
    await seekAndPlay(video, Number(hit.start_s));
  } catch (err) {
    video.dataset.state = "error";
    showError(`Could not play ${title}: ${err.message || err}.`);
  }
  updateTimeline();
  if (window.matchMedia("(max-width: 899px)").matches) $("search-player-panel").scrollIntoView({ block: "start", behavior: "smooth" });
}

async function seekAndPlay(video, start) {
  const seeked = waitFor(video, "seeked");
  video.currentTime = start;
  await seeked;
  video.dataset.state = "seeked";
  video.dataset.seekedTo = String(video.currentTime);
  search.pauseArmed = true;
  const playing = video.play();
  if (playing) playing.catch(() => notice("Press play to start the video."));
}

function updateTimeline() {
  const video = player();
  const duration = Number.isFinite(video.duration) && video.duration > 0 ? video.duration : library.byId.get(search.span?.videoId)?.duration_s || 0;
  const spanEl = $("search-span");
  if (search.span && duration) {
    const left = (search.span.start / duration) * 100;
    const width = Math.max(0.6, ((search.span.end - search.span.start) / duration) * 100);
    spanEl.style.left = `${Math.min(100, left)}%`;
    spanEl.style.width = `${Math.min(100 - left, width)}%`;
    spanEl.hidden = false;
  } else spanEl.hidden = true;
  $("search-head").style.left = duration ? `${Math.min(100, (video.currentTime / duration) * 100)}%` : "0";
}

function setupPlayer() {
  const video = player();
  video.addEventListener("timeupdate", () => {
    updateTimeline();
    if (search.span && search.pauseArmed && $("pause-at-end").checked && video.currentTime >= search.span.end) {
      search.pauseArmed = false;
      video.pause();
    }
  });
  video.addEventListener("loadedmetadata", updateTimeline);
  video.addEventListener("error", () => {
    if (video.getAttribute("src")) showError("The video could not be played (the file may be missing or in a format this browser cannot decode).");
  });
  $("search-timeline").addEventListener("click", (event) => {
    if (!Number.isFinite(video.duration) || !video.duration) return;
    const box = event.currentTarget.getBoundingClientRect();
    video.currentTime = ((event.clientX - box.left) / box.width) * video.duration;
    search.pauseArmed = false;
  });
  $("replay-span").addEventListener("click", () => {
    if (search.span) seekAndPlay(video, search.span.start).catch((err) => showError(`Could not seek: ${err.message}`));
  });
}

// ------------------------------------------------------------------------------------------
// Highlights
// ------------------------------------------------------------------------------------------

const highlight = { requestId: null, pollToken: 0, result: null, locked: new Set(), excluded: new Set() };

function renderVideoFilter() {
  const box = $("hl-video-checks");
  const checked = new Set([...box.querySelectorAll("input:checked")].map((c) => c.value));
  const ready = library.videos.filter((v) => v.status === "ready");
  if (!ready.length) {
    box.replaceChildren(el("span", { class: "help", text: "No ready videos yet." }));
    return;
  }
  const same = ready.map((v) => v.video_id).join() === [...box.querySelectorAll("input")].map((c) => c.value).join();
  if (same) return;
  box.replaceChildren(
    ...ready.map((v) =>
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "video_ids", value: v.video_id, checked: checked.has(v.video_id) }), ` ${v.title || basename(v.path)}`),
    ),
  );
}

function numberOrNull(input) {
  const text = input.value.trim();
  if (!text) return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : NaN;
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
  const duration = numberOrNull($("hl-duration"));
  if (Number.isNaN(duration) || (duration !== null && duration <= 0)) {
    showError("The target duration must be a positive number of seconds (or empty for automatic).");
    $("hl-duration").focus();
    return;
  }
  const body = {
    prompt,
    order: $("hl-order").value,
    min_clip_s: numberOrNull($("hl-min")) ?? 2,
    max_clip_s: numberOrNull($("hl-max")) ?? 20,
    max_clips: numberOrNull($("hl-max-clips")) ?? 12,
  };
  if (duration !== null) body.target_duration_s = duration;
  const videoIds = [...document.querySelectorAll('#hl-video-checks input:checked')].map((c) => c.value);
  if (videoIds.length) body.video_ids = videoIds;
  await busy(event.currentTarget, async () => {
    try {
      const data = await api("POST", "/highlights", body);
      highlight.locked.clear();
      highlight.excluded.clear();
      history.pushState(null, "", `#highlights/${data.request_id}`);
      followHighlight(data.request_id);
    } catch (err) {
      showError(`Could not start the highlight job. ${errorText(err)}`);
    }
  });
}

async function replan(event) {
  event.preventDefault();
  clearError();
  if (!highlight.requestId) return;
  const duration = numberOrNull($("replan-duration"));
  if (Number.isNaN(duration) || (duration !== null && duration <= 0)) {
    showError("The new target duration must be a positive number of seconds (or empty to keep it).");
    $("replan-duration").focus();
    return;
  }
  const body = { locked_clip_ids: [...highlight.locked], excluded_clip_ids: [...highlight.excluded] };
  if (duration !== null) body.target_duration_s = duration;
  await busy(event.currentTarget, async () => {
    try {
      const data = await api("POST", `/highlights/${encodeURIComponent(highlight.requestId)}/replan`, body);
      history.pushState(null, "", `#highlights/${data.request_id}`);
      followHighlight(data.request_id, { keepResult: true });
    } catch (err) {
      showError(`Could not re-plan. ${errorText(err)}`);
    }
  });
}

async function followHighlight(requestId, { keepResult = false, restoring = false } = {}) {
  const token = ++highlight.pollToken;
  highlight.requestId = requestId;
  $("hl-job").hidden = false;
  if (!keepResult && !restoring) $("hl-result").hidden = true;
  setJobState({ status: "queued", progress: 0, message: "Waiting for the job to start…" });
  let failures = 0;
  for (;;) {
    let job;
    try {
      job = await api("GET", `/highlights/${encodeURIComponent(requestId)}`);
      failures = 0;
    } catch (err) {
      if (token !== highlight.pollToken) return;
      failures += 1;
      if ((err.status && err.status < 500) || failures >= 5) {
        setJobState({ status: "failed", progress: 0, message: "" });
        showError(`Could not follow highlight job ${requestId}. ${errorText(err)}`);
        return;
      }
      await sleep(POLL_MS);
      continue;
    }
    if (token !== highlight.pollToken) return;
    if (restoring && job.prompt && !$("hl-prompt").value) $("hl-prompt").value = job.prompt;
    setJobState(job);
    if (job.status === "done") {
      renderHighlight(job);
      $("hl-job").hidden = true;
      const n = job.result?.clips?.length || 0;
      notice(`Highlight reel ready: ${n} clip${n === 1 ? "" : "s"}.`);
      return;
    }
    if (job.status === "failed") {
      showError(`The highlight job failed: ${job.error || job.message || "unknown error"}`);
      return;
    }
    await sleep(POLL_MS);
  }
}

function setJobState(job) {
  const value = Math.max(0, Math.min(1, Number(job.progress) || 0));
  const badge = $("hl-job-status");
  badge.textContent = { queued: "Queued", running: "Working", done: "Done", failed: "Failed" }[job.status] || job.status;
  badge.className = `badge status-${job.status}`;
  $("hl-progress").value = value;
  $("hl-progress-text").textContent = `${Math.round(value * 100)} %`;
  $("hl-job-message").textContent = job.status === "failed" ? job.error || job.message || "" : job.message || "";
  $("hl-job").dataset.status = job.status;
}

function downloadLink(url, label, name) {
  return el("a", { class: "button ghost small", href: url, download: name || true, text: label });
}

function renderHighlight(job) {
  const result = job.result || {};
  highlight.result = result;
  const clips = result.clips || [];
  const known = new Set(clips.map((c) => c.clip_id));
  for (const id of [...highlight.locked]) if (!known.has(id)) highlight.locked.delete(id);
  for (const id of [...highlight.excluded]) if (!known.has(id)) highlight.excluded.delete(id);
  $("hl-result").hidden = false;
  $("hl-result").dataset.requestId = job.request_id;
  $("hl-title").textContent = result.title || "Highlight reel";
  $("hl-description").textContent = result.description || "";
  $("hl-meta").textContent = [
    `${clips.length} clip${clips.length === 1 ? "" : "s"}`,
    result.duration_s ? hms(result.duration_s) : "",
    result.planner ? `planner: ${result.planner}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const reel = $("reel-player");
  if (result.reel_url) {
    reel.src = result.reel_url;
    reel.dataset.kind = "reel";
    $("hl-now-playing").textContent = `Reel · ${result.title || job.prompt || ""}`;
  } else {
    reel.removeAttribute("src");
    $("hl-now-playing").textContent = "No reel was rendered.";
  }
  $("play-reel").disabled = !result.reel_url;
  const stem = (result.title || "highlights").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "highlights";
  $("hl-downloads").replaceChildren(
    el("span", { class: "help", text: "Download: " }),
    result.reel_url ? downloadLink(result.reel_url, "Reel (MP4)", `${stem}.mp4`) : null,
    result.srt_url ? downloadLink(result.srt_url, "Subtitles (SRT)", `${stem}.srt`) : null,
    result.edl_url ? downloadLink(result.edl_url, "Edit list (EDL)", `${stem}.edl`) : null,
  );
  $("hl-warnings").replaceChildren(...(result.warnings || []).map((w) => el("li", { text: w })));
  $("clip-count").textContent = clips.length ? `(${clips.length})` : "";
  $("clip-list").replaceChildren(...clips.map((clip, index) => clipCard(clip, index)));
  if (!clips.length) $("clip-list").append(el("li", { class: "empty", text: "No clip matched the prompt. Try other words or a longer duration." }));
  $("replan-duration").placeholder = result.duration_s ? `same (${Math.round(result.duration_s)})` : "same";
}

function clipCard(clip, index) {
  const number = index + 1;
  const title = clip.title || `Clip ${number}`;
  const source = videoTitle(clip.video_id);
  const lockId = `lock-${clip.clip_id}`;
  const excludeId = `exclude-${clip.clip_id}`;
  const lock = el("input", { type: "checkbox", id: lockId, checked: highlight.locked.has(clip.clip_id) });
  const exclude = el("input", { type: "checkbox", id: excludeId, checked: highlight.excluded.has(clip.clip_id) });
  const card = el(
    "li",
    { class: "card clip-card", dataset: { clipId: clip.clip_id, videoId: clip.video_id } },
    el(
      "div",
      { class: "thumb" },
      clip.thumbnail_url ? el("img", { src: clip.thumbnail_url, alt: "", loading: "lazy" }) : el("div", { class: "thumb-placeholder", "aria-hidden": "true" }),
      el("span", { class: "time-badge", text: humanDuration(clip.end_s - clip.start_s) }),
    ),
    el(
      "div",
      { class: "card-body" },
      el("h3", { class: "card-title" }, el("span", { class: "clip-number", text: `${number}.` }), ` ${title}`),
      el("p", { class: "meta-line" }, el("span", { text: source }), el("span", { class: "mono", text: `${hms(clip.start_s)}–${hms(clip.end_s)}` })),
      clip.tags && clip.tags.length ? el("ul", { class: "chips tags", "aria-label": "Tags" }, clip.tags.map((t) => el("li", { class: "chip tag", text: t }))) : null,
      clip.description ? el("p", { class: "description", text: clip.description }) : null,
      clip.reason ? el("p", { class: "reason" }, el("span", { class: "ev-label", text: "Why: " }), clip.reason) : null,
      el(
        "div",
        { class: "card-actions" },
        el("button", { type: "button", class: "small clip-play", text: "Play clip", "aria-label": `Play clip ${number}: ${title}`, onclick: () => playClip(clip, number) }),
        clip.reel_start_s != null && highlight.result?.reel_url
          ? el("button", { type: "button", class: "ghost small", text: "Show in reel", "aria-label": `Show clip ${number} in the reel`, onclick: () => playReel(clip.reel_start_s) })
          : null,
        clip.url ? el("a", { class: "button ghost small", href: clip.url, download: `clip-${number}.mp4`, "aria-label": `Download clip ${number}`, text: "Download" }) : null,
      ),
      el(
        "div",
        { class: "toggles" },
        el("label", { for: lockId, class: "toggle" }, lock, " Keep (lock)"),
        el("label", { for: excludeId, class: "toggle" }, exclude, " Exclude"),
      ),
    ),
  );
  lock.setAttribute("aria-label", `Lock clip ${number}: ${title}`);
  exclude.setAttribute("aria-label", `Exclude clip ${number}: ${title}`);
  lock.addEventListener("change", () => {
    if (lock.checked) {
      highlight.locked.add(clip.clip_id);
      highlight.excluded.delete(clip.clip_id);
      exclude.checked = false;
    } else highlight.locked.delete(clip.clip_id);
    card.dataset.state = lock.checked ? "locked" : "";
  });
  exclude.addEventListener("change", () => {
    if (exclude.checked) {
      highlight.excluded.add(clip.clip_id);
      highlight.locked.delete(clip.clip_id);
      lock.checked = false;
    } else highlight.excluded.delete(clip.clip_id);
    card.dataset.state = exclude.checked ? "excluded" : "";
  });
  card.dataset.state = lock.checked ? "locked" : exclude.checked ? "excluded" : "";
  return card;
}

function playOn(video, url, kind, startS = 0) {
  const absolute = new URL(url, location.href).href;
  const start = () => {
    if (startS) video.currentTime = startS;
    const p = video.play();
    if (p) p.catch(() => notice("Press play to start the video."));
  };
  if (video.currentSrc !== absolute && video.getAttribute("src") !== url) {
    video.src = url;
    video.addEventListener("loadedmetadata", start, { once: true });
    video.load();
  } else start();
  video.dataset.kind = kind;
}

function playClip(clip, number) {
  clearError();
  if (!clip.url) {
    showError("This clip has no rendered file.");
    return;
  }
  $("hl-now-playing").textContent = `Clip ${number}: ${clip.title || ""} (${videoTitle(clip.video_id)} ${hms(clip.start_s)}–${hms(clip.end_s)})`;
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

function setupReelPlayer() {
  const reel = $("reel-player");
  reel.addEventListener("error", () => {
    if (reel.getAttribute("src")) showError("The video could not be played (the file may be missing or in a format this browser cannot decode).");
  });
  $("play-reel").addEventListener("click", () => playReel(0));
}

// ------------------------------------------------------------------------------------------
// Server status
// ------------------------------------------------------------------------------------------

async function checkHealth() {
  const out = $("server-status");
  try {
    const health = await api("GET", "/health");
    const ok = !health || health.status === undefined || ["ok", "ready", "healthy", "degraded"].includes(String(health.status));
    out.dataset.state = ok ? (health && health.status === "degraded" ? "degraded" : "ok") : "bad";
    out.textContent = ok ? (health && health.status === "degraded" ? "Server degraded" : "Server online") : `Server: ${health.status}`;
    const models = Array.isArray(health && health.models) ? health.models : [];
    const lines = models.map((m) => `${modalityName(m.modality)}: ${m.backend || ""} ${m.name || ""}${m.available === false ? " (unavailable)" : ""}`.trim());
    if (health && health.planner) lines.push(`Highlights planner: ${health.planner}`);
    for (const problem of (health && health.problems) || []) lines.push(`Problem: ${problem}`);
    out.title = lines.join("\n");
  } catch (err) {
    out.dataset.state = "bad";
    out.textContent = "Server offline";
    showError(errorText(err));
  }
}

// ------------------------------------------------------------------------------------------
// Start
// ------------------------------------------------------------------------------------------

function start() {
  setupTabs();
  setupPlayer();
  setupReelPlayer();
  $("alert-close").addEventListener("click", clearError);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("alert").hidden) clearError();
  });
  $("add-path-form").addEventListener("submit", addByPath);
  $("upload-form").addEventListener("submit", uploadFile);
  $("refresh-videos").addEventListener("click", () => {
    clearError();
    refreshVideos();
  });
  $("search-form").addEventListener("submit", runSearch);
  $("highlight-form").addEventListener("submit", startHighlight);
  $("replan-form").addEventListener("submit", replan);
  checkHealth();
  routeFromHash();
  if (currentView !== "library") refreshVideos();
  document.body.dataset.ready = "true";
}

start();
