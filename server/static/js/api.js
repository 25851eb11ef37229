// The API client: JSON in and out, readable errors from problem+json, and the API token.
//
// When the server answers 401 (SCENESPARK_API_TOKEN is set), the page asks for the token once,
// POSTs it to /api/v1/session (the server sets an HttpOnly SameSite=Strict cookie, so <video> and
// <img> loads work), keeps it in sessionStorage for this tab, sends `Authorization: Bearer …` on
// every API call and retries the call. Every write carries `Content-Type: application/json`
// (uploads are multipart and carry the Bearer header), which the server requires of writes.

import { problemMessage } from "./format.js";

export const API_BASE = "/api/v1";
const ACCEPT = "application/json, application/problem+json";
const TOKEN_KEY = "scenespark.apiToken";
const UNREACHABLE = "Cannot reach the SceneSpark server. Check that it is running and try again.";
const NEEDS_TOKEN = "This server needs an API token (SCENESPARK_API_TOKEN) and none was given.";
const MAX_TOKEN_ATTEMPTS = 5;

export class ApiError extends Error {
  constructor(message, status = 0, problem = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

/** The token kept for this tab (sessionStorage), or an in-memory stand-in where there is none. */
export function tokenStore(storage = globalThis.sessionStorage) {
  let memory = "";
  return {
    get: () => (storage ? storage.getItem(TOKEN_KEY) || "" : memory),
    set: (token) => (storage ? storage.setItem(TOKEN_KEY, token) : (memory = token)),
    clear: () => (storage ? storage.removeItem(TOKEN_KEY) : (memory = "")),
  };
}

/** "Try again in 30 s." from a Retry-After header in seconds (busy queues answer 429). */
export function retryAfterText(header) {
  const seconds = Number(header);
  if (!header || !Number.isFinite(seconds) || seconds < 0) return "";
  return `Try again in ${Math.max(1, Math.ceil(seconds))} s.`;
}

const isWrite = (method) => !["GET", "HEAD"].includes(method.toUpperCase());

async function readBody(response) {
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("json")) return { data: null, json: false };
  try {
    return { data: await response.json(), json: true };
  } catch {
    return { data: null, json: true };
  }
}

/**
 * An API client. `ask({ again })` asks the user for the token (resolves to the token, or null
 * when the user declines); `again` is true after the server refused a token.
 */
export function createApi({
  fetchFn = (...args) => globalThis.fetch(...args),
  store = tokenStore(),
  ask = async () => null,
  base = API_BASE,
} = {}) {
  let pending = null; // one prompt at a time, however many calls got a 401

  async function postSession(token) {
    let response;
    try {
      response = await fetchFn(`${base}/session`, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: ACCEPT, "Content-Type": "application/json" },
        body: JSON.stringify({ token }),
      });
    } catch {
      throw new ApiError(UNREACHABLE);
    }
    if (response.ok) return true;
    if (response.status === 401 || response.status === 403) return false;
    const { data } = await readBody(response);
    throw new ApiError(problemMessage(data, response.status), response.status, data);
  }

  /** Get a working token from the user; true when one is stored (`rejected` = the one that failed). */
  function renewToken(rejected) {
    if (store.get() && store.get() !== rejected) return Promise.resolve(true);
    if (!pending) {
      pending = (async () => {
        store.clear();
        for (let attempt = 0; attempt < MAX_TOKEN_ATTEMPTS; attempt += 1) {
          const token = String((await ask({ again: attempt > 0 })) ?? "").trim();
          if (!token) return false;
          if (await postSession(token)) {
            store.set(token);
            return true;
          }
        }
        return false;
      })().finally(() => {
        pending = null;
      });
    }
    return pending;
  }

  function authHeaders() {
    const token = store.get();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  /** Call the API; JSON body in, parsed JSON out (null for 204). Throws ApiError. */
  async function request(method, path, body) {
    for (let attempt = 0; ; attempt += 1) {
      const headers = { Accept: ACCEPT, ...authHeaders() };
      const init = { method, headers, credentials: "same-origin" };
      if (isWrite(method)) headers["Content-Type"] = "application/json";
      if (body !== undefined) init.body = JSON.stringify(body);
      const sentToken = store.get();
      let response;
      try {
        response = await fetchFn(`${base}${path}`, init);
      } catch {
        throw new ApiError(UNREACHABLE);
      }
      const { data, json } = await readBody(response);
      if (response.status === 401 && attempt === 0) {
        if (await renewToken(sentToken)) continue;
        throw new ApiError(NEEDS_TOKEN, 401, data);
      }
      if (response.status === 204) return null;
      if (!response.ok) {
        const retry = retryAfterText(response.headers.get("Retry-After"));
        const message = problemMessage(data, response.status);
        const text = retry ? `${message.replace(/[.!?]?$/, ".")} ${retry}` : message;
        throw new ApiError(text, response.status, data);
      }
      if (json && data === null) throw new ApiError("The server sent an unreadable answer.");
      return data;
    }
  }

  /** Refresh the media cookie from a token kept by this tab (e.g. after a reload). */
  async function resumeSession() {
    const token = store.get();
    if (!token) return;
    try {
      if (!(await postSession(token))) store.clear();
    } catch {
      // the next API call reports an unreachable server
    }
  }

  /** A multipart upload with progress (XMLHttpRequest), with the same token handling. */
  async function upload(path, form, onProgress = () => {}) {
    for (let attempt = 0; ; attempt += 1) {
      const sentToken = store.get();
      const { status, data } = await sendForm(`${base}${path}`, form, authHeaders(), onProgress);
      if (status === 401 && attempt === 0) {
        if (await renewToken(sentToken)) continue;
        throw new ApiError(NEEDS_TOKEN, 401, data);
      }
      if (status >= 200 && status < 300) return data || {};
      throw new ApiError(problemMessage(data, status), status, data);
    }
  }

  return { request, upload, resumeSession, renewToken, store };
}

function sendForm(url, form, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.setRequestHeader("Accept", ACCEPT);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded / e.total));
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      resolve({ status: xhr.status, data });
    });
    xhr.addEventListener("error", () => reject(new ApiError(UNREACHABLE)));
    xhr.addEventListener("abort", () => reject(new ApiError("The upload was cancelled.")));
    xhr.send(form);
  });
}
