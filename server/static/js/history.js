// Reel history: recent highlight jobs from GET /api/v1/highlights, newest first, so reels
// survive a reload; failed jobs show their error.

import { api } from "./client.js";
import { $, el, errorText } from "./dom.js";
import { isActive } from "./jobs.js";
import { historyDetail, statusLabel } from "./reel.js";

const HISTORY_LIMIT = 20;
const hooks = { open: () => {}, currentId: () => null };
let historyLoading = false;
let historyTimer = 0;

export async function refreshHistory() {
  if (historyLoading) return;
  historyLoading = true;
  clearTimeout(historyTimer);
  try {
    const jobs = await api("GET", `/highlights?limit=${HISTORY_LIMIT}`);
    renderHistory(Array.isArray(jobs) ? jobs : []);
  } catch (err) {
    $("hl-history-empty").hidden = false;
    $("hl-history-empty").textContent = `Could not load the recent reels. ${errorText(err)}`;
  } finally {
    historyLoading = false;
  }
}

function historyItem(job) {
  const when = job.created_at ? new Date(job.created_at) : null;
  const current = job.request_id === hooks.currentId();
  return el(
    "li",
    {
      class: "history-item",
      dataset: { requestId: job.request_id, status: job.status },
      "aria-current": current ? "true" : null,
    },
    el("button", {
      type: "button",
      class: "link history-open",
      text: job.prompt || job.request_id,
      "aria-label": `Open the reel “${job.prompt || job.request_id}”`,
      onclick: () => hooks.open(job.request_id),
    }),
    el("span", { class: `badge status-${job.status}`, text: statusLabel(job.status) }),
    el("span", { class: job.status === "failed" ? "error-text small" : "help", text: historyDetail(job) }),
    when && !Number.isNaN(when.getTime())
      ? el("time", { class: "help", datetime: job.created_at, text: when.toLocaleString() })
      : null,
  );
}

function renderHistory(jobs) {
  $("hl-history").replaceChildren(...jobs.map(historyItem));
  $("hl-history-empty").hidden = jobs.length > 0;
  $("hl-history-empty").textContent = "No highlight reels yet.";
  if (jobs.some(isActive)) historyTimer = setTimeout(refreshHistory, 3000);
}

/** `open(requestId)` opens a reel; `currentId()` names the one on screen. */
export function setupHistory({ open, currentId }) {
  Object.assign(hooks, { open, currentId });
}
