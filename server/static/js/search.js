// The Search view: the query form, result cards with their evidence, a click plays the span.

import { api } from "./client.js";
import { $, busy, clearError, el, errorText, guardImeEnter, showError, thumbImage } from "./dom.js";
import { hms, humanDuration, modalityName, plural, sortModalities } from "./format.js";
import { library, videoTitle } from "./library.js";
import { playSpan, setupSearchPlayer } from "./player.js";
import { navigate } from "./router.js";

const search = { hits: [], videoIds: null };

async function runSearch(event) {
  event.preventDefault();
  clearError();
  const input = $("search-query");
  const query = input.value.trim();
  if (!query) {
    showError("Type what you are looking for, then press Search.");
    input.focus();
    return;
  }
  const modalities = [...document.querySelectorAll('#search-form input[name="modality"]:checked')].map(
    (c) => c.value,
  );
  if (!modalities.length) {
    showError("Choose at least one place to look in (speech, on-screen text or visuals).");
    return;
  }
  const body = { query, top_k: Number($("search-topk").value) || 10, group_by: "span" };
  if (modalities.length < 3) body.modalities = modalities;
  if (search.videoIds) body.video_ids = search.videoIds;
  await busy(event.currentTarget, async () => {
    $("search-meta").textContent = "Searching…";
    try {
      const data = await api("POST", "/search", body);
      search.hits = data.results || [];
      renderHits(data, query);
    } catch (err) {
      $("search-meta").textContent = "";
      showError(`Search failed. ${errorText(err)}`);
    }
  });
}

function renderHits(data, query) {
  const hits = search.hits;
  const scope = search.videoIds ? ` in ${search.videoIds.map((id) => videoTitle(id)).join(", ")}` : "";
  const took = typeof data.took_ms === "number" ? ` in ${Math.round(data.took_ms)} ms` : "";
  const meta = $("search-meta");
  meta.replaceChildren(
    hits.length
      ? `${plural(hits.length, "result")} for “${query}”${scope}${took}.`
      : `Nothing relevant found for “${query}”${scope}. Try other words, or check that the videos are indexed.`,
  );
  if (search.videoIds) {
    meta.append(
      " ",
      el("button", {
        type: "button",
        class: "link",
        text: "Search the whole library",
        onclick: () => {
          search.videoIds = null;
          $("search-form").requestSubmit();
        },
      }),
    );
  }
  $("hit-list").replaceChildren(...hits.map((hit, index) => hitCard(hit, index)));
}

function evidenceBlocks(ev) {
  return [
    ev.transcript
      ? el(
          "blockquote",
          { class: "evidence speech" },
          el("span", { class: "ev-label", text: "Said: " }),
          `“${ev.transcript}”`,
        )
      : null,
    ev.ocr_text
      ? el(
          "p",
          { class: "evidence ocr" },
          el("span", { class: "ev-label", text: "On screen: " }),
          `“${ev.ocr_text}”`,
        )
      : null,
    ev.visual_labels || ev.frame_time_s != null
      ? el(
          "p",
          { class: "evidence visual" },
          el("span", { class: "ev-label", text: "Seen: " }),
          ev.visual_labels || "matching frame",
          ev.frame_time_s != null ? ` (frame at ${hms(ev.frame_time_s)})` : "",
        )
      : null,
  ];
}

function hitCard(hit, index) {
  const title = hit.video_title || videoTitle(hit.video_id);
  const pct = Math.round((Number(hit.score) || 0) * 100);
  const playLabel = `Play ${title} from ${hms(hit.start_s)} to ${hms(hit.end_s)}`;
  const scores = sortModalities(Object.entries(hit.modality_scores || {}).filter(([, v]) => v > 0));
  const card = el(
    "li",
    {
      class: "card hit-card",
      dataset: {
        index: String(index),
        start: String(hit.start_s),
        end: String(hit.end_s),
        videoId: hit.video_id,
      },
    },
    el(
      "div",
      { class: "thumb" },
      thumbImage(hit.thumbnail_url),
      el("span", { class: "time-badge", text: hms(hit.start_s) }),
    ),
    el(
      "div",
      { class: "card-body" },
      el(
        "h3",
        { class: "card-title" },
        el(
          "button",
          { type: "button", class: "hit-play", "aria-label": playLabel },
          el("span", { class: "play-icon", "aria-hidden": "true" }),
          title,
        ),
      ),
      el(
        "p",
        { class: "meta-line" },
        el("span", { class: "mono", text: `${hms(hit.start_s)}–${hms(hit.end_s)}` }),
        el("span", { text: humanDuration(hit.end_s - hit.start_s) }),
      ),
      el(
        "div",
        { class: "score-line" },
        el(
          "span",
          { class: "score-bar", "aria-hidden": "true" },
          el("span", { style: { width: `${pct}%` } }),
        ),
        el("span", { class: `badge conf-${hit.confidence}`, text: `${pct}% · ${hit.confidence} confidence` }),
      ),
      scores.length
        ? el(
            "ul",
            { class: "chips", "aria-label": "Score per modality" },
            scores.map(([m, v]) =>
              el("li", { class: `chip m-${m}`, text: `${modalityName(m)} ${Math.round(v * 100)}%` }),
            ),
          )
        : null,
      evidenceBlocks(hit.evidence || {}),
    ),
  );
  card.addEventListener("click", (event) => {
    if (event.target.closest("a")) return;
    playHit(hit, card);
  });
  return card;
}

function playHit(hit, card) {
  clearError();
  document.querySelectorAll(".hit-card[aria-current]").forEach((c) => c.removeAttribute("aria-current"));
  card.setAttribute("aria-current", "true");
  return playSpan({
    videoId: hit.video_id,
    startS: hit.start_s,
    endS: hit.end_s,
    title: hit.video_title || videoTitle(hit.video_id),
    durationS: library.byId.get(hit.video_id)?.duration_s || 0,
  });
}

function searchInVideo(video) {
  search.videoIds = [video.video_id];
  navigate("search");
  $("search-meta").textContent = `Searching only in ${videoTitle(video.video_id)}.`;
  $("search-query").focus();
}

export function setupSearch() {
  setupSearchPlayer();
  guardImeEnter($("search-query"));
  $("search-form").addEventListener("submit", runSearch);
  document.addEventListener("search-in-video", (event) => searchInVideo(event.detail));
}
