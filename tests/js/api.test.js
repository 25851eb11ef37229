import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, createApi, retryAfterText, tokenStore } from "../../server/static/js/api.js";

const TOKEN = "s3cret-token";
const json = (status, body, extra = {}) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json", ...extra },
  });
const unauthorized = () =>
  json(401, { title: "Unauthorized", status: 401 }, { "WWW-Authenticate": 'Bearer realm="scenespark"' });

/** A server that wants `Authorization: Bearer TOKEN` on /api/v1 calls and takes it at /session. */
function tokenServer() {
  const calls = [];
  const fetchFn = async (url, init = {}) => {
    const headers = init.headers || {};
    calls.push({ url, method: init.method, headers, body: init.body });
    if (url === "/api/v1/session") {
      const { token } = JSON.parse(init.body);
      return token === TOKEN ? new Response(null, { status: 204 }) : unauthorized();
    }
    if (headers.Authorization !== `Bearer ${TOKEN}`) return unauthorized();
    if (url === "/api/v1/videos" && init.method === "DELETE") return new Response(null, { status: 204 });
    if (url === "/api/v1/search") return json(200, { results: [], echo: JSON.parse(init.body) });
    return json(200, { videos: [] });
  };
  return { fetchFn, calls };
}

test("a 401 asks for the token once, opens a session, and retries with the Bearer header", async () => {
  const server = tokenServer();
  const asked = [];
  const store = tokenStore(null);
  const api = createApi({ fetchFn: server.fetchFn, store, ask: async (o) => (asked.push(o), TOKEN) });
  assert.deepEqual(await api.request("GET", "/videos"), { videos: [] });
  assert.deepEqual(asked, [{ again: false }]);
  const session = server.calls.find((c) => c.url === "/api/v1/session");
  assert.equal(session.method, "POST");
  assert.equal(session.headers["Content-Type"], "application/json");
  assert.deepEqual(JSON.parse(session.body), { token: TOKEN });
  assert.equal(store.get(), TOKEN);
  // later calls carry the token without asking again
  await api.request("GET", "/videos");
  assert.equal(asked.length, 1);
  assert.equal(server.calls.at(-1).headers.Authorization, `Bearer ${TOKEN}`);
});

test("concurrent 401s share one prompt", async () => {
  const server = tokenServer();
  let asks = 0;
  const api = createApi({
    fetchFn: server.fetchFn,
    store: tokenStore(null),
    ask: async () => {
      asks += 1;
      await new Promise((r) => setTimeout(r, 10));
      return TOKEN;
    },
  });
  const answers = await Promise.all([api.request("GET", "/videos"), api.request("GET", "/highlights")]);
  assert.equal(answers.length, 2);
  assert.equal(asks, 1);
});

test("a refused token asks again; declining gives a readable 401 error", async () => {
  const server = tokenServer();
  const asked = [];
  const answers = ["wrong", TOKEN];
  const api = createApi({
    fetchFn: server.fetchFn,
    store: tokenStore(null),
    ask: async (o) => (asked.push(o.again), answers.shift()),
  });
  await api.request("GET", "/videos");
  assert.deepEqual(asked, [false, true]);

  const declined = createApi({
    fetchFn: tokenServer().fetchFn,
    store: tokenStore(null),
    ask: async () => null,
  });
  await assert.rejects(declined.request("GET", "/videos"), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 401);
    assert.match(err.message, /API token/);
    return true;
  });
});

test("a stale stored token is replaced after the server refuses it", async () => {
  const server = tokenServer();
  const store = tokenStore(null);
  store.set("old-token");
  const api = createApi({ fetchFn: server.fetchFn, store, ask: async () => TOKEN });
  await api.request("GET", "/videos");
  assert.equal(store.get(), TOKEN);
});

test("writes send application/json, reads do not; 204 gives null", async () => {
  const server = tokenServer();
  const store = tokenStore(null);
  store.set(TOKEN);
  const api = createApi({ fetchFn: server.fetchFn, store });
  const answer = await api.request("POST", "/search", { query: "番茄 在哪里" });
  assert.equal(answer.echo.query, "番茄 在哪里");
  assert.equal(await api.request("DELETE", "/videos"), null);
  const [post, del] = server.calls;
  assert.equal(post.headers["Content-Type"], "application/json");
  assert.equal(del.headers["Content-Type"], "application/json");
  await api.request("GET", "/videos");
  assert.equal(server.calls.at(-1).headers["Content-Type"], undefined);
});

test("without a token the client sends no Authorization header and never asks", async () => {
  const calls = [];
  let asked = false;
  const api = createApi({
    fetchFn: async (url, init) => (calls.push(init), json(200, { ok: true })),
    store: tokenStore(null),
    ask: async () => (asked = true),
  });
  await api.request("GET", "/health");
  assert.equal(calls[0].headers.Authorization, undefined);
  assert.equal(asked, false);
});

test("errors: problem+json becomes one line; network failure is readable", async () => {
  const api = createApi({
    fetchFn: async () => json(404, { title: "Not found", detail: "no video 'x'" }),
    store: tokenStore(null),
  });
  await assert.rejects(api.request("GET", "/videos/x"), { message: "Not found: no video 'x'", status: 404 });
  const offline = createApi({
    fetchFn: async () => {
      throw new TypeError("Failed to fetch");
    },
    store: tokenStore(null),
  });
  await assert.rejects(offline.request("GET", "/videos"), /Cannot reach the SceneSpark server/);
});

test("resumeSession renews the media cookie from a kept token, and drops a refused one", async () => {
  const server = tokenServer();
  const store = tokenStore(null);
  store.set(TOKEN);
  await createApi({ fetchFn: server.fetchFn, store }).resumeSession();
  assert.equal(server.calls[0].url, "/api/v1/session");
  assert.equal(store.get(), TOKEN);
  store.set("revoked");
  await createApi({ fetchFn: server.fetchFn, store }).resumeSession();
  assert.equal(store.get(), "");
});

test("a full queue (429 with Retry-After) says when to try again", async () => {
  const api = createApi({
    fetchFn: async () =>
      json(429, { title: "Too many jobs", detail: "the highlight queue is full" }, { "Retry-After": "30" }),
    store: tokenStore(null),
  });
  await assert.rejects(api.request("POST", "/highlights", { prompt: "x" }), {
    status: 429,
    message: "Too many jobs: the highlight queue is full. Try again in 30 s.",
  });
  assert.equal(retryAfterText(null), "");
  assert.equal(retryAfterText("Wed, 21 Oct 2015 07:28:00 GMT"), "");
  assert.equal(retryAfterText("0.2"), "Try again in 1 s.");
});
