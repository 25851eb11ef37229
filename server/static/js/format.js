// Pure helpers: formatting times, names, URLs and problem+json messages. No DOM, no fetch, so
// Node's test runner checks them directly (format.test.js).

/** Seconds → "HH:MM:SS". */
export function hms(seconds) {
  const s = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(h)}:${pad(m)}:${pad(s % 60)}`;
}

/** Seconds → short human duration: "7.5 s", "2 min 05 s", "1 h 02 min". */
export function humanDuration(seconds) {
  const s = Math.max(0, Number(seconds) || 0);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) {
    const whole = Math.round(s);
    return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  }
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** "a/b/c.mp4" or "C:\\x\\c.mp4" → "c.mp4". */
export function basename(path) {
  return (
    String(path || "")
      .split(/[\\/]/)
      .filter(Boolean)
      .pop() || String(path || "")
  );
}

/** A data-dir relative path → its URL under /media/files/ (URLs pass through). */
export function mediaFileUrl(relpath) {
  if (!relpath) return "";
  if (/^\/|^https?:/.test(relpath)) return relpath;
  return `/media/files/${relpath.split("/").map(encodeURIComponent).join("/")}`;
}

export function videoUrl(videoId) {
  return `/media/videos/${encodeURIComponent(videoId)}`;
}

/** "n clip" / "n clips". */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** One readable sentence from a problem+json body (RFC 9457). */
export function problemMessage(problem, status) {
  if (!problem || typeof problem !== "object") {
    return `The server answered with an error (HTTP ${status}).`;
  }
  const title = problem.title || `HTTP ${status}`;
  let text = problem.detail ? `${title}: ${problem.detail}` : title;
  if (Array.isArray(problem.errors) && problem.errors.length) {
    const items = problem.errors
      .slice(0, 5)
      .map((e) =>
        e && typeof e === "object" ? `${e.field ? `${e.field}: ` : ""}${e.message || ""}` : String(e),
      )
      .filter(Boolean);
    if (items.length && !items.every((item) => text.includes(item))) text += ` (${items.join("; ")})`;
  }
  if (problem.hint) text += `. Hint: ${problem.hint}`;
  return text;
}

/** "backend:/long/path/name@fp:abc|backend2:..." → ["backend · name", "backend2 · ..."]. */
export function modelLines(signature) {
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
const MODALITY_NAMES = { speech: "Speech", ocr: "On-screen text", visual: "Visual", text: "Text" };

/** [modality, value] pairs in a fixed reading order (speech, ocr, visual, …). */
export function sortModalities(entries) {
  const rank = (m) => (MODALITY_ORDER.includes(m) ? MODALITY_ORDER.indexOf(m) : MODALITY_ORDER.length);
  return [...entries].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function modalityName(modality) {
  return MODALITY_NAMES[modality] || modality;
}

/**
 * A file-name stem from a title: keeps letters and digits of every script (a Chinese title stays
 * Chinese), everything else becomes "-".
 */
export function fileStem(title, fallback = "highlights") {
  const stem = String(title || "")
    .toLowerCase()
    .normalize("NFKC")
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80);
  return stem || fallback;
}

/** The text field's value as a number: null when empty, NaN when not a finite number. */
export function parseOptionalNumber(text) {
  const trimmed = String(text ?? "").trim();
  if (!trimmed) return null;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : NaN;
}

/** Left offset and width (in %) of a span on a timeline of `durationS`; null without a duration. */
export function spanGeometry(startS, endS, durationS) {
  const duration = Number(durationS);
  if (!(duration > 0)) return null;
  const left = Math.min(100, Math.max(0, (Number(startS) / duration) * 100));
  const width = Math.max(0.6, ((Number(endS) - Number(startS)) / duration) * 100);
  return { left, width: Math.min(100 - left, width) };
}

/** Enter that only confirms an IME composition (Chinese, Japanese…) must not submit a form. */
export function isImeEnter(event) {
  return Boolean(event && event.key === "Enter" && (event.isComposing || event.keyCode === 229));
}

/** The top bar's server line from GET /api/v1/health: {state: ok|warming|degraded|bad, text}. */
export function serverState(health) {
  const status = health && typeof health === "object" ? health.status : undefined;
  if (status === undefined || ["ok", "ready", "healthy"].includes(String(status))) {
    return { state: "ok", text: "Server online" };
  }
  if (status === "warming") return { state: "warming", text: "Server starting (loading models)" };
  if (status === "degraded") return { state: "degraded", text: "Server degraded" };
  return { state: "bad", text: `Server: ${status}` };
}

/** "zh" → "Chinese" (English names through Intl; the code itself where Intl does not know it). */
export function languageName(code) {
  const tag = String(code || "").trim();
  if (!tag) return "";
  try {
    const name = new Intl.DisplayNames(["en"], { type: "language" }).of(tag);
    return name && name !== tag ? name : tag;
  } catch {
    return tag;
  }
}

/** A video's speech language as one line: "Speech: Chinese (detected, 97%)"; "" when unknown. */
export function speechLanguageLabel(video) {
  const name = languageName(video && video.speech_language);
  if (!name) return "";
  const notes = [];
  if (video.speech_language_source) notes.push(video.speech_language_source);
  const p = Number(video.speech_language_probability);
  if (video.speech_language_source === "detected" && p > 0) notes.push(`${Math.round(p * 100)}%`);
  if (video.speech_language_uncertain) notes.push("uncertain");
  return `Speech: ${name}${notes.length ? ` (${notes.join(", ")})` : ""}`;
}
