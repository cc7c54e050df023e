// What changed between two views: items added, removed and changed per area and track,
// as GET /state/changes answers.

import { badge, h } from "./dom.js";
import { itemView, LIST_TITLES } from "./items.js";
import { shortInstant } from "./instants.js";

function scalarChange(label, change) {
  if (!change) return null;
  return h(
    "p",
    { class: "scalar-change" },
    `${label}: `,
    change.from === null ? h("em", {}, "not shown") : label === "status" ? badge(change.from.replaceAll("_", " "), change.from) : change.from,
    " → ",
    change.to === null ? h("em", {}, "not shown") : label === "status" ? badge(change.to.replaceAll("_", " "), change.to) : change.to,
  );
}

function entryView(found, ctx) {
  const rows = [];
  for (const [kind, marker] of [["added", "added"], ["removed", "removed"], ["changed", "changed"]]) {
    for (const [list, items] of Object.entries(found[kind] || {})) {
      for (const item of items) {
        const shown = kind === "changed" ? item.to : item;
        const row = itemView(list, shown, ctx, marker);
        row.classList.add(`change-${kind}`);
        row.prepend(h("p", { class: "list-name" }, LIST_TITLES[list] || list));
        if (kind === "changed") row.append(h("p", { class: "meta" }, describeChange(item.from, item.to)));
        rows.push(row);
      }
    }
  }
  return [scalarChange("status", found.status), scalarChange("within", found.within), rows.length ? h("ul", { class: "items" }, rows) : null];
}

function describeChange(before, after) {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  return `was: ${keys.map((k) => `${k} ${JSON.stringify(before[k])}`).join(", ")}; now: ${keys.map((k) => `${k} ${JSON.stringify(after[k])}`).join(", ")}`;
}

function scoped(title, kind, entries, ctx) {
  const names = Object.keys(entries || {}).sort();
  if (!names.length) return null;
  return h(
    "section",
    {},
    h("h3", {}, title),
    names.map((name) => h("article", { class: "card", dataset: { [kind]: name } }, h("header", { class: "card-head" }, h("h4", {}, ctx.scopeLink(kind, name))), entryView(entries[name], ctx))),
  );
}

export function changesView(answer, ctx) {
  const from = answer.from;
  const diplomacy = answer.diplomacy || {};
  const diplomacyRows = entryView(diplomacy, ctx).filter(Boolean);
  const sections = [
    scoped("Territory", "area", answer.territory?.areas, ctx),
    scoped("Talks", "track", answer.talks?.tracks, ctx),
    diplomacyRows.length ? h("section", {}, h("h3", {}, "Diplomacy"), diplomacyRows) : null,
  ].filter(Boolean);
  return h(
    "div",
    { class: "changes" },
    h(
      "p",
      { class: "compare-summary" },
      `From the date ${shortInstant(from.as_of)} as known at ${shortInstant(from.known_at)} (position ${from.position}) to the date ${shortInstant(answer.as_of)} as known at ${shortInstant(answer.known_at)} (position ${answer.position}).`,
    ),
    sections.length ? sections : h("p", { class: "empty" }, "Nothing changed between the two."),
  );
}
