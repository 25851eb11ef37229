// Video players: the search player plays a hit's span (seek to its start, pause at its end,
// the span marked on a timeline); the reel player plays a reel or one clip file.

import { $, notice, showError } from "./dom.js";
import { hms, spanGeometry, videoUrl } from "./format.js";

const UNPLAYABLE =
  "The video could not be played (the file may be missing or in a format this browser cannot decode).";

/** Resolve on `eventName`, reject on the element's error event or after `timeoutMs`. */
export function waitFor(target, eventName, timeoutMs = 15000) {
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

function startPlaying(video) {
  const playing = video.play();
  if (playing) playing.catch(() => notice("Press play to start the video."));
}

/** Play `url` on `video` (from `startS`), loading it only when it is not already loaded. */
export function playOn(video, url, kind, startS = 0) {
  const absolute = new URL(url, location.href).href;
  const start = () => {
    if (startS) video.currentTime = startS;
    startPlaying(video);
  };
  if (video.currentSrc !== absolute && video.getAttribute("src") !== url) {
    video.src = url;
    video.addEventListener("loadedmetadata", start, { once: true });
    video.load();
  } else start();
  video.dataset.kind = kind;
}

export function reportUnplayable(video) {
  video.addEventListener("error", () => {
    if (video.getAttribute("src")) showError(UNPLAYABLE);
  });
}

// ------------------------------------------------------------------------------------------
// The search player: one span of one video at a time
// ------------------------------------------------------------------------------------------

const span = { start: 0, end: 0, videoId: null, durationS: 0, active: false, pauseArmed: false };
const searchVideo = () => $("search-player");

async function seekAndPlay(video, startS) {
  const seeked = waitFor(video, "seeked");
  video.currentTime = startS;
  await seeked;
  video.dataset.state = "seeked";
  video.dataset.seekedTo = String(video.currentTime);
  span.pauseArmed = true;
  startPlaying(video);
}

function updateTimeline() {
  const video = searchVideo();
  const duration = Number.isFinite(video.duration) && video.duration > 0 ? video.duration : span.durationS;
  const spanEl = $("search-span");
  const box = span.active ? spanGeometry(span.start, span.end, duration) : null;
  if (box) {
    spanEl.style.left = `${box.left}%`;
    spanEl.style.width = `${box.width}%`;
    spanEl.hidden = false;
  } else spanEl.hidden = true;
  $("search-head").style.left = duration ? `${Math.min(100, (video.currentTime / duration) * 100)}%` : "0";
}

/**
 * Play a span: load the video when another one is loaded, seek to `startS`, play, and pause at
 * `endS` (when "Pause at span end" is ticked). `durationS` draws the timeline before metadata.
 */
export async function playSpan({ videoId, startS, endS, title, durationS = 0 }) {
  const video = searchVideo();
  Object.assign(span, { start: Number(startS), end: Number(endS), videoId, durationS, active: true });
  span.pauseArmed = true;
  video.dataset.spanStart = String(startS);
  video.dataset.spanEnd = String(endS);
  video.dataset.state = "loading";
  $("search-now-playing").textContent = `${title} · ${hms(startS)}–${hms(endS)}`;
  $("search-span-text").textContent = `Span ${hms(startS)}–${hms(endS)}`;
  $("replay-span").disabled = false;
  try {
    if (video.dataset.videoId !== videoId || !video.currentSrc) {
      video.dataset.videoId = videoId;
      const loaded = waitFor(video, "loadedmetadata");
      video.src = videoUrl(videoId);
      video.load();
      await loaded;
    }
    await seekAndPlay(video, Number(startS));
  } catch (err) {
    video.dataset.state = "error";
    showError(`Could not play ${title}: ${err.message || err}.`);
  }
  updateTimeline();
  if (window.matchMedia("(max-width: 899px)").matches) {
    $("search-player-panel").scrollIntoView({ block: "start", behavior: "smooth" });
  }
}

export function setupSearchPlayer() {
  const video = searchVideo();
  video.addEventListener("timeupdate", () => {
    updateTimeline();
    if (span.active && span.pauseArmed && $("pause-at-end").checked && video.currentTime >= span.end) {
      span.pauseArmed = false;
      video.pause();
    }
  });
  video.addEventListener("loadedmetadata", updateTimeline);
  reportUnplayable(video);
  $("search-timeline").addEventListener("click", (event) => {
    if (!Number.isFinite(video.duration) || !video.duration) return;
    const box = event.currentTarget.getBoundingClientRect();
    video.currentTime = ((event.clientX - box.left) / box.width) * video.duration;
    span.pauseArmed = false;
  });
  $("replay-span").addEventListener("click", () => {
    if (span.active) {
      seekAndPlay(video, span.start).catch((err) => showError(`Could not seek: ${err.message}`));
    }
  });
}
