// Views (tabs) and routing: #library, #search, #highlights, #highlights/<request_id>.

import { $ } from "./dom.js";

export const VIEWS = ["library", "search", "highlights"];
const onShow = new Map(); // view -> [callback(arg)]
let current = "library";

export const currentView = () => current;

/** Call `callback(arg)` whenever `view` is shown (arg: the part after "#view/"). */
export function whenShown(view, callback) {
  onShow.set(view, [...(onShow.get(view) || []), callback]);
}

/** "#highlights/abc%20d" → {view: "highlights", arg: "abc d"}; unknown views → library. */
export function parseHash(hash) {
  const text = decodeURIComponent(String(hash || "").replace(/^#/, ""));
  const slash = text.indexOf("/");
  const view = slash < 0 ? text : text.slice(0, slash);
  const arg = slash < 0 ? "" : text.slice(slash + 1);
  return VIEWS.includes(view) ? { view, arg } : { view: "library", arg: "" };
}

export function showView(view, { focusTab = false, arg = "" } = {}) {
  if (!VIEWS.includes(view)) view = "library";
  current = view;
  for (const name of VIEWS) {
    const tab = $(`tab-${name}`);
    const selected = name === view;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(`view-${name}`).hidden = !selected;
  }
  document.title = `${view[0].toUpperCase()}${view.slice(1)} · SceneSpark`;
  if (focusTab) $(`tab-${view}`).focus();
  for (const callback of onShow.get(view) || []) callback(arg);
}

/** Go to a view and record it in the history (so Back and reload return to it). */
export function navigate(view, arg = "") {
  const hash = arg ? `#${view}/${encodeURIComponent(arg)}` : `#${view}`;
  if (location.hash !== hash) history.pushState(null, "", hash);
  showView(view, { arg });
}

function routeFromHash() {
  const { view, arg } = parseHash(location.hash);
  showView(view, { arg });
}

export function setupTabs() {
  const tabs = VIEWS.map((name) => $(`tab-${name}`));
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => {
      if (location.hash.split("/")[0] !== `#${tab.dataset.view}`) {
        history.pushState(null, "", `#${tab.dataset.view}`);
      }
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
  routeFromHash();
}
