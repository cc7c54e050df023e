// The event behind an item: where it was reported, when, where it sits in the log, and
// the corrections that touch it, with the actions a desk needs (correct, retract).

import { get } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { shortInstant } from "./instants.js";

function row(label, ...value) {
  const shown = value.filter((v) => v !== null && v !== undefined && v !== "");
  return shown.length ? [h("dt", {}, label), h("dd", {}, shown)] : [];
}

function safeUrl(url) {
  // The server only stores http(s) URLs; checked again so that no other scheme is ever a link.
  return /^https?:\/\//i.test(url || "") ? url : null;
}

function dataRows(data) {
  return Object.entries(data).flatMap(([name, value]) =>
    row(name, typeof value === "string" ? value : JSON.stringify(value)),
  );
}

function correctionRow(event, ctx, knownAt) {
  const kind = event.type === "event.retracted" ? "retracted by" : "superseded by";
  const later = knownAt && event.recorded_at > knownAt;
  return h(
    "li",
    { dataset: { correction: kind } },
    `${kind} `,
    ctx.eventLink(event.id, `${event.type} at position ${event.position}`),
    event.type === "event.retracted" ? ` (reason: ${event.data.reason})` : "",
    `, recorded ${shortInstant(event.recorded_at)}`,
    later ? h("em", {}, " (after the view's “known at”)") : null,
  );
}

/** Fill `panel` with one event's detail. */
export async function showEvent(panel, id, ctx) {
  replaceChildren(panel, h("p", {}, "Loading the event…"));
  let event, corrections;
  try {
    [event, corrections] = await Promise.all([get(`/events/${encodeURIComponent(id)}`), get(`/events/${encodeURIComponent(id)}/corrections`)]);
  } catch (problem) {
    replaceChildren(panel, h("p", { class: "error", role: "alert" }, problem.message), ctx.closeButton());
    return;
  }
  const source = event.source;
  const url = safeUrl(source.url);
  const referenced = ["denied_event_id", "offer_event_id", "target_event_id"].filter((k) => event.data[k]);
  replaceChildren(
    panel,
    h("header", { class: "detail-head" }, h("h2", { id: "detail-title", tabindex: "-1" }, event.type), ctx.closeButton()),
    h("p", { class: "subject" }, `about ${event.subject}`),
    source.quote ? h("blockquote", { class: "quote" }, source.quote) : null,
    h(
      "dl",
      { class: "facts" },
      row("source", `${source.name} (${source.kind.replace("_", " ")})`),
      row("link", url ? h("a", { href: url, rel: "noopener noreferrer nofollow", target: "_blank" }, url) : null),
      row("occurred at", `${event.occurred_at} (precision: ${event.occurred_precision})`),
      row("window", `${shortInstant(event.occurred_from)} until ${shortInstant(event.occurred_until)}`),
      row("reported at", event.reported_at || "not given"),
      row("recorded at", event.recorded_at),
      row("position", String(event.position)),
      row("version", `${event.version} of ${event.subject}`),
      row("supersedes", event.supersedes ? ctx.eventLink(event.supersedes, event.supersedes) : null),
      referenced.flatMap((k) => row(k.replace(/_/g, " "), ctx.eventLink(event.data[k], event.data[k]))),
      row("event id", h("code", {}, event.id)),
      row("hash", h("code", { class: "hash" }, event.hash)),
    ),
    h("h3", {}, "Data"),
    h("dl", { class: "facts" }, dataRows(event.data)),
    h("h3", {}, "Corrections"),
    corrections.events.length
      ? h("ul", { class: "corrections" }, corrections.events.map((c) => correctionRow(c, ctx, ctx.knownAt())))
      : h("p", { class: "empty" }, "None: nothing supersedes or retracts this event."),
    h(
      "div",
      { class: "actions" },
      event.type !== "event.retracted" ? h("button", { type: "button", onclick: () => ctx.correct(event) }, "Correct") : null,
      h("button", { type: "button", onclick: () => ctx.retract(event) }, "Retract"),
      h("button", { type: "button", onclick: () => ctx.viewBefore(event) }, "View as known before it was recorded"),
    ),
  );
  panel.querySelector("#detail-title")?.focus();
}
