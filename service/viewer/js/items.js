// One state item as a person reads it: a sentence, then where it comes from. The same
// renderers serve the state views and the "what changed" view.

import { h, tentativeMark } from "./dom.js";
import { shortInstant } from "./instants.js";

const list = (values) => (values && values.length ? values.join(", ") : "none");

function field(label, value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) {
    return null;
  }
  return h("span", { class: "field" }, h("span", { class: "label" }, `${label}: `), Array.isArray(value) ? list(value) : String(value));
}

// Each list's item: [sentence, further fields]
const SENTENCES = {
  claims: (i) => [`${i.claimant} claims ${i.controller} controls it (${i.extent})`, [field("area", i.area_km2 !== null && i.area_km2 !== undefined ? `${i.area_km2} km²` : null)]],
  denials: (i, ctx) => [`${i.claimant} denies`, [i.denied_event_id ? h("span", { class: "field" }, ctx.eventLink(i.denied_event_id, "the claim denied")) : null]],
  assessments: (i) => [`${i.assessor} assesses ${i.controller} controls it (${i.extent})`, [field("area", i.area_km2 !== null && i.area_km2 !== undefined ? `${i.area_km2} km²` : null)]],
  forces: (i) => [`${i.force} forces support ${i.supporting}: ${i.status}, says ${i.claimant}`, [field("size", i.size)]],
  clashes: (i) => [`Clash between ${list(i.parties)}, reported by ${i.claimant}`, [field("deaths", deaths(i.deaths)), field("note", i.note)]],
  offers: (i) => [`${i.party} offers talks to ${i.counterparty}`, [h("span", { class: "field" }, h("span", { class: "label" }, "preconditions: "), i.preconditions.length ? list(i.preconditions) : "none")]],
  proposals: (i) => [`${i.proposer} proposes to ${list(i.parties)}`, [i.terms.length ? h("ol", { class: "terms" }, i.terms.map((t) => h("li", {}, t))) : field("terms", "none")]],
  ceasefires: (i) => [`Ceasefire between ${list(i.parties)}, declared by ${i.declared_by}`, [field("starts", i.starts), field("ends", i.ends || "open"), field("scope", i.scope)]],
  rounds: (i) => [`Round of talks in ${i.place} between ${list(i.parties)}`, [field("mediator", i.mediator), field("outcome", i.outcome)]],
  positions: (i) => [`${i.party}, to ${i.counterparty}: ${i.position}`, []],
  meetings: (i) => [`${list(i.participants)} met in ${i.place}`, [field("occasion", i.occasion), field("tone", i.tone), field("topics", i.topics), field("on behalf of", behalf(i.on_behalf_of))]],
  statements: (i) => [`${i.speaker}${i.party ? ` (${i.party})` : ""}: ${i.text}`, [field("about", i.about)]],
};

function deaths(value) {
  if (!value) return null;
  const parts = ["best", "low", "high"].filter((k) => value[k] !== undefined).map((k) => `${k} ${value[k]}`);
  return parts.length ? parts.join(", ") : null;
}

function behalf(value) {
  if (!value) return null;
  return Object.entries(value).map(([who, party]) => `${who} for ${party}`).join(", ");
}

export const LIST_TITLES = {
  claims: "Claims",
  denials: "Standing denials",
  assessments: "Assessments",
  forces: "Forces",
  clashes: "Clashes (30 days)",
  offers: "Open offers",
  proposals: "Proposals",
  ceasefires: "Ceasefires in force",
  rounds: "Rounds",
  positions: "Positions",
  meetings: "Meetings",
  statements: "Latest statements",
};

/** `ctx.eventLink(id, text)` makes a link that opens an event's detail. */
export function itemView(listName, item, ctx, marker = null) {
  const sentence = SENTENCES[listName] || ((i) => [JSON.stringify(i), []]);
  const [text, fields] = sentence(item, ctx);
  return h(
    "li",
    { class: item.tentative ? "item tentative" : "item", dataset: { eventId: item.event_id, list: listName } },
    h("p", { class: "summary" }, marker ? h("span", { class: `marker marker-${marker}` }, `${marker}: `) : null, text),
    h(
      "p",
      { class: "meta" },
      fields,
      field("since", shortInstant(item.since)),
      field("speaker", item.speaker),
      tentativeMark(item.tentative),
      ctx.eventLink(item.event_id, "source and event"),
    ),
  );
}

/** A titled list of items, or nothing when it is empty. */
export function listSection(listName, items, ctx, headingLevel = "h4") {
  if (!items || !items.length) return null;
  return h(
    "section",
    { class: `list list-${listName}` },
    h(headingLevel, {}, `${LIST_TITLES[listName] || listName} (${items.length})`),
    h("ul", { class: "items" }, items.map((item) => itemView(listName, item, ctx))),
  );
}
