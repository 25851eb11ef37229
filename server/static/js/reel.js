// Pure helpers for a highlight job as the page shows it: its files, its target, its summary.

import { fileStem, hms, plural } from "./format.js";

/** Every file a finished job offers, in reading order; absent or empty URLs are left out. */
const FILES = [
  { key: "reel_url", label: "Reel (MP4)", ext: "mp4" },
  { key: "srt_url", label: "Subtitles (SRT)", ext: "srt" },
  { key: "edl_url", label: "Edit list (EDL)", ext: "edl" },
  { key: "fcp7_xml_url", label: "Premiere / Resolve (FCP7 XML)", ext: "xml" },
  { key: "fcpxml_url", label: "Final Cut Pro (FCPXML)", ext: "fcpxml" },
  { key: "otio_url", label: "OpenTimelineIO (OTIO)", ext: "otio" },
];

/** [{url, label, name}] for the job's reel, subtitles and timelines (empty when it has none). */
export function reelDownloads(result) {
  if (!result || typeof result !== "object") return [];
  const stem = fileStem(result.title);
  return FILES.filter(({ key }) => typeof result[key] === "string" && result[key].trim()).map(
    ({ key, label, ext }) => ({ url: result[key], label, name: `${stem}.${ext}` }),
  );
}

export const clipsOf = (job) =>
  job && job.result && Array.isArray(job.result.clips) ? job.result.clips : [];

/** True when a finished job produced no clip (nothing matched): no reel to show or download. */
export const isEmptyReel = (job) => clipsOf(job).length === 0;

/** What an empty reel says instead of a player: where nothing matched, and what to try. */
export function emptyReelMessage(job) {
  const where = job?.params?.video_ids?.length ? "the chosen videos" : "the library";
  const prompt = job?.prompt ? `“${job.prompt}”` : "the prompt";
  return `Nothing in ${where} matched ${prompt} well enough to make a reel. Try other words, or add videos about it.`;
}

/** The duration the user asked for: the server's resolved target, else the request's. */
export function requestedTargetS(job) {
  const fromResult = Number(job?.result?.target_duration_s);
  if (fromResult > 0) return fromResult;
  const fromRequest = Number(job?.params?.target_duration_s);
  return fromRequest > 0 ? fromRequest : null;
}

/** What an empty re-plan duration box means: the requested target, not the reel's length. */
export function replanPlaceholder(job) {
  const target = requestedTargetS(job);
  if (target === null) return "same (from the prompt)";
  return `same (${Number.isInteger(target) ? target : target.toFixed(1)} s)`;
}

/** The one-line notice when a job finishes. */
export function finishedNotice(job) {
  if (job.status === "failed")
    return `The highlight job failed: ${job.error || job.message || "unknown error"}`;
  if (job.status === "cancelled") return "The highlight job was cancelled.";
  const n = clipsOf(job).length;
  if (!n) return "No reel: no moment matched the prompt well enough.";
  return `Highlight reel ready: ${plural(n, "clip")}.`;
}

/** "3 clips · 00:00:20 · planner: deterministic" for a finished job. */
export function reelMeta(result) {
  const clips = Array.isArray(result?.clips) ? result.clips : [];
  return [
    plural(clips.length, "clip"),
    result?.duration_s ? hms(result.duration_s) : "",
    result?.planner ? `planner: ${result.planner}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

const STATUS_LABELS = {
  queued: "Queued",
  running: "Working",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const statusLabel = (status) => STATUS_LABELS[status] || String(status || "");

/** One line about a job for the history list. */
export function historyDetail(job) {
  if (job.status === "failed") return job.error || job.message || "failed";
  if (job.status === "cancelled") return "cancelled";
  if (job.status !== "done") return `${Math.round((Number(job.progress) || 0) * 100)} %`;
  const clips = clipsOf(job);
  if (!clips.length) return "no clip matched";
  return `${plural(clips.length, "clip")} · ${hms(job.result.duration_s || 0)}`;
}
