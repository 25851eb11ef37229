// A reel's clip cards: thumbnail, source and times, tags, description, why it was chosen, play
// and download, and the Keep (lock) / Exclude toggles that a re-plan sends.

import { el, thumbImage } from "./dom.js";
import { hms, humanDuration } from "./format.js";

function clipToggles(clip, number, title, card, { locked, excluded }) {
  const lock = el("input", {
    type: "checkbox",
    id: `lock-${clip.clip_id}`,
    checked: locked.has(clip.clip_id),
  });
  const exclude = el("input", {
    type: "checkbox",
    id: `exclude-${clip.clip_id}`,
    checked: excluded.has(clip.clip_id),
  });
  lock.setAttribute("aria-label", `Lock clip ${number}: ${title}`);
  exclude.setAttribute("aria-label", `Exclude clip ${number}: ${title}`);
  const sync = () => (card.dataset.state = lock.checked ? "locked" : exclude.checked ? "excluded" : "");
  lock.addEventListener("change", () => {
    if (lock.checked) {
      locked.add(clip.clip_id);
      excluded.delete(clip.clip_id);
      exclude.checked = false;
    } else locked.delete(clip.clip_id);
    sync();
  });
  exclude.addEventListener("change", () => {
    if (exclude.checked) {
      excluded.add(clip.clip_id);
      locked.delete(clip.clip_id);
      lock.checked = false;
    } else excluded.delete(clip.clip_id);
    sync();
  });
  sync();
  return el(
    "div",
    { class: "toggles" },
    el("label", { for: lock.id, class: "toggle" }, lock, " Keep (lock)"),
    el("label", { for: exclude.id, class: "toggle" }, exclude, " Exclude"),
  );
}

/**
 * One clip of a reel. `ctx`: {locked, excluded} (Sets of clip ids the user ticked), `hasReel`,
 * `sourceTitle(videoId)`, `playClip(clip, number)` and `playReel(startS)`.
 */
export function clipCard(clip, index, ctx) {
  const number = index + 1;
  const title = clip.title || `Clip ${number}`;
  const card = el("li", {
    class: "card clip-card",
    dataset: { clipId: clip.clip_id, videoId: clip.video_id },
  });
  card.append(
    el(
      "div",
      { class: "thumb" },
      thumbImage(clip.thumbnail_url),
      el("span", { class: "time-badge", text: humanDuration(clip.end_s - clip.start_s) }),
    ),
    el(
      "div",
      { class: "card-body" },
      el(
        "h3",
        { class: "card-title" },
        el("span", { class: "clip-number", text: `${number}.` }),
        ` ${title}`,
      ),
      el(
        "p",
        { class: "meta-line" },
        el("span", { text: ctx.sourceTitle(clip.video_id) }),
        el("span", { class: "mono", text: `${hms(clip.start_s)}–${hms(clip.end_s)}` }),
      ),
      clip.tags && clip.tags.length
        ? el(
            "ul",
            { class: "chips tags", "aria-label": "Tags" },
            clip.tags.map((t) => el("li", { class: "chip tag", text: t })),
          )
        : null,
      clip.description ? el("p", { class: "description", text: clip.description }) : null,
      clip.reason
        ? el("p", { class: "reason" }, el("span", { class: "ev-label", text: "Why: " }), clip.reason)
        : null,
      el(
        "div",
        { class: "card-actions" },
        el("button", {
          type: "button",
          class: "small clip-play",
          text: "Play clip",
          "aria-label": `Play clip ${number}: ${title}`,
          onclick: () => ctx.playClip(clip, number),
        }),
        clip.reel_start_s != null && ctx.hasReel
          ? el("button", {
              type: "button",
              class: "ghost small",
              text: "Show in reel",
              "aria-label": `Show clip ${number} in the reel`,
              onclick: () => ctx.playReel(clip.reel_start_s),
            })
          : null,
        clip.url
          ? el("a", {
              class: "button ghost small",
              href: clip.url,
              download: `clip-${number}.mp4`,
              "aria-label": `Download clip ${number}`,
              text: "Download",
            })
          : null,
      ),
      clipToggles(clip, number, title, card, ctx),
    ),
  );
  return card;
}
