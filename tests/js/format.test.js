// Unit tests of the page's pure helpers (node --test tests/js/).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  basename,
  fileStem,
  hms,
  humanDuration,
  isImeEnter,
  mediaFileUrl,
  modelLines,
  parseOptionalNumber,
  plural,
  problemMessage,
  serverState,
  speechLanguageLabel,
  sortModalities,
  spanGeometry,
  videoUrl,
} from "../../server/static/js/format.js";
import { parseHash } from "../../server/static/js/router.js";

test("hms pads and clamps", () => {
  assert.equal(hms(0), "00:00:00");
  assert.equal(hms(7.9), "00:00:07");
  assert.equal(hms(3725), "01:02:05");
  assert.equal(hms(-4), "00:00:00");
  assert.equal(hms("nonsense"), "00:00:00");
});

test("humanDuration picks a unit", () => {
  assert.equal(humanDuration(7.5), "7.5 s");
  assert.equal(humanDuration(42), "42 s");
  assert.equal(humanDuration(125), "2 min 05 s");
  assert.equal(humanDuration(119.6), "2 min 00 s");
  assert.equal(humanDuration(3720), "1 h 02 min");
});

test("basename handles both separators and empty input", () => {
  assert.equal(basename("/videos/a/talk.mp4"), "talk.mp4");
  assert.equal(basename("C:\\clips\\x.mov"), "x.mov");
  assert.equal(basename(""), "");
  assert.equal(basename(null), "");
});

test("media URLs are encoded per path part", () => {
  assert.equal(mediaFileUrl("thumbs/a b/c#1.jpg"), "/media/files/thumbs/a%20b/c%231.jpg");
  assert.equal(mediaFileUrl("/media/files/x.jpg"), "/media/files/x.jpg");
  assert.equal(mediaFileUrl(""), "");
  assert.equal(videoUrl("ab/c"), "/media/videos/ab%2Fc");
});

test("plural", () => {
  assert.equal(plural(1, "clip"), "1 clip");
  assert.equal(plural(0, "clip"), "0 clips");
});

test("problemMessage makes one readable line of problem+json", () => {
  assert.equal(problemMessage(null, 502), "The server answered with an error (HTTP 502).");
  assert.equal(
    problemMessage({ title: "Path not allowed", detail: "outside the library roots" }, 403),
    "Path not allowed: outside the library roots",
  );
  const withErrors = problemMessage(
    { title: "Invalid request", errors: [{ field: "top_k", message: "must be ≥ 1" }], hint: "fix it" },
    400,
  );
  assert.equal(withErrors, "Invalid request (top_k: must be ≥ 1). Hint: fix it");
  assert.ok(!problemMessage({}, 404).includes("undefined"));
});

test("modelLines shortens model paths", () => {
  assert.deepEqual(modelLines("whisper:/opt/models/small/model@fp:1|clip:ViT-B-32"), [
    "whisper · small",
    "clip · ViT-B-32",
  ]);
  assert.deepEqual(modelLines(""), []);
});

test("sortModalities keeps a fixed reading order without mutating its input", () => {
  const entries = [
    ["visual", 1],
    ["zeta", 2],
    ["speech", 3],
    ["ocr", 4],
  ];
  assert.deepEqual(
    sortModalities(entries).map(([m]) => m),
    ["speech", "ocr", "visual", "zeta"],
  );
  assert.equal(entries[0][0], "visual");
});

test("fileStem keeps letters of every script", () => {
  assert.equal(fileStem("The Garden: Spring Sale!"), "the-garden-spring-sale");
  assert.equal(fileStem("花园 春季促销"), "花园-春季促销");
  assert.equal(fileStem("!!!"), "highlights");
  assert.equal(fileStem(""), "highlights");
});

test("parseOptionalNumber: empty is null, junk is NaN", () => {
  assert.equal(parseOptionalNumber(""), null);
  assert.equal(parseOptionalNumber("  "), null);
  assert.equal(parseOptionalNumber(" 12.5 "), 12.5);
  assert.ok(Number.isNaN(parseOptionalNumber("abc")));
  assert.ok(Number.isNaN(parseOptionalNumber("Infinity")));
});

test("spanGeometry places a span and keeps it inside the bar", () => {
  assert.deepEqual(spanGeometry(10, 20, 100), { left: 10, width: 10 });
  assert.deepEqual(spanGeometry(95, 120, 100), { left: 95, width: 5 });
  assert.equal(spanGeometry(0, 0.001, 100).width, 0.6);
  assert.equal(spanGeometry(1, 2, 0), null);
  assert.equal(spanGeometry(1, 2, NaN), null);
});

test("isImeEnter: Enter while composing (or the IME's keyCode 229) is not a submit", () => {
  assert.equal(isImeEnter({ key: "Enter", isComposing: true, keyCode: 13 }), true);
  assert.equal(isImeEnter({ key: "Enter", isComposing: false, keyCode: 229 }), true);
  assert.equal(isImeEnter({ key: "Enter", isComposing: false, keyCode: 13 }), false);
  assert.equal(isImeEnter({ key: "a", isComposing: true, keyCode: 229 }), false);
  assert.equal(isImeEnter(null), false);
});

test("parseHash reads view and argument", () => {
  assert.deepEqual(parseHash("#highlights/abc123"), { view: "highlights", arg: "abc123" });
  assert.deepEqual(parseHash("#search"), { view: "search", arg: "" });
  assert.deepEqual(parseHash(""), { view: "library", arg: "" });
  assert.deepEqual(parseHash("#nope/x"), { view: "library", arg: "" });
  assert.deepEqual(parseHash("#highlights/a%2Fb"), { view: "highlights", arg: "a/b" });
});

test("serverState names each health status", () => {
  assert.deepEqual(serverState({ status: "ok" }), { state: "ok", text: "Server online" });
  assert.equal(serverState({ status: "warming" }).state, "warming");
  assert.equal(serverState({ status: "degraded" }).text, "Server degraded");
  assert.deepEqual(serverState({ status: "down" }), { state: "bad", text: "Server: down" });
  assert.equal(serverState(null).state, "ok");
});

test("speechLanguageLabel names the language, its source and doubt", () => {
  const zh = {
    speech_language: "zh",
    speech_language_source: "detected",
    speech_language_probability: 0.974,
  };
  assert.equal(speechLanguageLabel(zh), "Speech: Chinese (detected, 97%)");
  assert.equal(
    speechLanguageLabel({
      ...zh,
      speech_language: "en",
      speech_language_probability: 0.41,
      speech_language_uncertain: true,
    }),
    "Speech: English (detected, 41%, uncertain)",
  );
  assert.equal(
    speechLanguageLabel({ speech_language: "zh-CN", speech_language_source: "sidecar" }),
    "Speech: Chinese (China) (sidecar)",
  );
  assert.equal(speechLanguageLabel({ speech_language: "" }), "");
  assert.equal(speechLanguageLabel(null), "");
});
