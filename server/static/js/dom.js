// DOM helpers and the page's message areas. The DOM is built with createElement only (never
// innerHTML with API data), so titles, transcripts and paths cannot inject markup; styles are set
// through the CSSOM (no style attributes), so the page works under CSP `default-src 'self'`.

import { ApiError } from "./api.js";
import { isImeEnter } from "./format.js";

export const $ = (id) => document.getElementById(id);

/** Build an element: el("p", {class: "x", text: "hi", style: {width: "5%"}}, child, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Children without the null/false placeholders of conditional parts. */
/** A card's picture: the thumbnail when there is one, else a neutral placeholder. */
export function thumbImage(url) {
  return url
    ? el("img", { src: url, alt: "", loading: "lazy" })
    : el("div", { class: "thumb-placeholder", "aria-hidden": "true" });
}

export const present = (...items) => items.flat().filter((x) => x !== null && x !== undefined && x !== false);

export function showError(message) {
  $("alert-text").textContent = message;
  const alert = $("alert");
  alert.hidden = false;
  const box = alert.getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) {
    alert.scrollIntoView({ block: "start", behavior: "smooth" });
  }
}

export function clearError() {
  $("alert").hidden = true;
  $("alert-text").textContent = "";
}

let noticeTimer = 0;
export function notice(message, { sticky = false } = {}) {
  clearTimeout(noticeTimer);
  $("notice").textContent = message;
  if (!sticky && message) noticeTimer = setTimeout(() => ($("notice").textContent = ""), 6000);
}

export function errorText(err) {
  if (err instanceof ApiError) return err.message;
  return `Something went wrong: ${err && err.message ? err.message : err}`;
}

/** Disable a form's buttons while a request runs. */
export async function busy(form, task) {
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

/**
 * Enter that confirms an IME candidate (Chinese, Japanese, Korean input) does not submit the
 * form: a submit while the input is composing, or from the confirming keystroke, is dropped.
 */
export function guardImeEnter(input) {
  input.addEventListener("keydown", (event) => {
    if (isImeEnter(event)) input.dataset.composing = "true";
  });
  input.addEventListener("keyup", () => {
    if (input.dataset.composing === "true" && !input.dataset.inComposition) delete input.dataset.composing;
  });
  input.form?.addEventListener(
    "submit",
    (event) => {
      if (input.dataset.composing === "true") {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    { capture: true },
  );
  input.addEventListener("compositionstart", () => {
    input.dataset.composing = "true";
    input.dataset.inComposition = "true";
  });
  input.addEventListener("compositionend", () => {
    delete input.dataset.inComposition;
    // Safari sends the confirming Enter's keydown after compositionend: wait one turn.
    setTimeout(() => {
      if (!input.dataset.inComposition) delete input.dataset.composing;
    }, 0);
  });
}
