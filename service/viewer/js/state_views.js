// The three parts of the state at (as_of, known_at): areas nested under their parent,
// talks tracks, and diplomacy.

import { badge, h } from "./dom.js";
import { listSection } from "./items.js";

const AREA_LISTS = ["claims", "denials", "assessments", "forces", "clashes"];
const TRACK_LISTS = ["offers", "proposals", "ceasefires", "rounds", "positions"];

export function statusBadge(status) {
  return h("span", { class: "status" }, h("span", { class: "visually-hidden" }, "status: "), badge(status.replaceAll("_", " "), status));
}

function areaCard(name, area, children, ctx, depth) {
  const heading = depth === 0 ? "h3" : "h4";
  return h(
    "article",
    { class: `card area depth-${Math.min(depth, 3)}`, dataset: { area: name, status: area.status } },
    h(
      "header",
      { class: "card-head" },
      h(heading, {}, ctx.scopeLink("area", name)),
      statusBadge(area.status),
      area.within ? h("span", { class: "within" }, "within ", ctx.scopeLink("area", area.within)) : null,
    ),
    AREA_LISTS.map((list) => listSection(list, area[list], ctx, "h5")),
    children.length ? h("div", { class: "children", "aria-label": `Areas within ${name}` }, children) : null,
  );
}

/** Areas whose `within` names an area of the same answer are shown inside it. */
export function territoryView(areas, ctx) {
  const names = Object.keys(areas).sort();
  if (!names.length) return h("p", { class: "empty" }, "No area has claims, denials, assessments or forces at this date.");
  const childrenOf = new Map();
  const roots = [];
  for (const name of names) {
    const parent = areas[name].within;
    if (parent && parent !== name && areas[parent]) {
      if (!childrenOf.has(parent)) childrenOf.set(parent, []);
      childrenOf.get(parent).push(name);
    } else {
      roots.push(name);
    }
  }
  const shown = new Set();
  const build = (name, depth) => {
    shown.add(name);
    const kids = (childrenOf.get(name) || []).filter((kid) => !shown.has(kid)).map((kid) => build(kid, depth + 1));
    return areaCard(name, areas[name], kids, ctx, depth);
  };
  const cards = roots.map((name) => build(name, 0));
  // Areas in a cycle of `within` have no root: shown at the top level all the same.
  for (const name of names) if (!shown.has(name)) cards.push(build(name, 0));
  return h("div", { class: "cards" }, cards);
}

export function talksView(tracks, ctx) {
  const names = Object.keys(tracks).sort();
  if (!names.length) return h("p", { class: "empty" }, "No talks track has anything to show at this date.");
  return h(
    "div",
    { class: "cards" },
    names.map((name) =>
      h(
        "article",
        { class: "card track", dataset: { track: name, status: tracks[name].status } },
        h("header", { class: "card-head" }, h("h3", {}, ctx.scopeLink("track", name)), statusBadge(tracks[name].status)),
        TRACK_LISTS.map((list) => listSection(list, tracks[name][list], ctx, "h4")),
      ),
    ),
  );
}

export function diplomacyView(diplomacy, ctx) {
  const sections = [listSection("meetings", diplomacy.meetings, ctx, "h3"), listSection("statements", diplomacy.statements, ctx, "h3")];
  if (!sections.some(Boolean)) return h("p", { class: "empty" }, "No meeting or statement so far at this date.");
  return h("div", { class: "diplomacy" }, sections);
}
