// SceneSpark web page: Library, Search and Highlights over the HTTP API (/api/v1).
// ES modules, no build step, no external resources; works under CSP `default-src 'self'`.

import { api, client, setupTokenDialog } from "./client.js";
import { $, clearError, errorText, showError } from "./dom.js";
import { modalityName, serverState } from "./format.js";
import { setupHighlights } from "./highlights.js";
import { refreshVideos, setupLibrary } from "./library.js";
import { currentView, setupTabs, whenShown } from "./router.js";
import { setupSearch } from "./search.js";

const HEALTH_RECHECK_MS = 3000;

async function checkHealth() {
  const out = $("server-status");
  try {
    const health = await api("GET", "/health");
    const { state, text } = serverState(health);
    out.dataset.state = state;
    out.textContent = text;
    if (state === "warming") setTimeout(checkHealth, HEALTH_RECHECK_MS);
    const models = Array.isArray(health && health.models) ? health.models : [];
    const lines = models.map((m) =>
      `${modalityName(m.modality)}: ${m.backend || ""} ${m.name || ""}${m.available === false ? " (unavailable)" : ""}`.trim(),
    );
    if (health && health.planner) lines.push(`Highlights planner: ${health.planner}`);
    for (const problem of (health && health.problems) || []) lines.push(`Problem: ${problem}`);
    out.title = lines.join("\n");
  } catch (err) {
    out.dataset.state = "bad";
    out.textContent = "Server offline";
    showError(errorText(err));
  }
}

async function start() {
  setupTokenDialog();
  setupLibrary();
  setupSearch();
  setupHighlights();
  $("alert-close").addEventListener("click", clearError);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("alert").hidden) clearError();
  });
  whenShown("library", () => refreshVideos());
  await client.resumeSession();
  checkHealth();
  setupTabs();
  if (currentView() !== "library") refreshVideos();
  document.body.dataset.ready = "true";
}

start();
