// The viewer: controls for the date (as_of) and the moment of knowledge (known_at), the
// parts of the state, an area's history, what changed, an event's detail, the editor and
// the intake. The URL carries the view; every answer comes from the service's own API.

import { get, key } from "./api.js";
import { byId, h, replaceChildren } from "./dom.js";
import { changesView } from "./changes.js";
import { showEvent } from "./detail.js";
import { Editor } from "./editor.js";
import { historyView } from "./history.js";
import { Intake } from "./intake.js";
import { dayOf, isDate, isQueryInstant, justBefore, shortInstant, today } from "./instants.js";
import { Live } from "./live.js";
import { diplomacyView, talksView, territoryView } from "./state_views.js";
import { isLive, linkTo, readView, TABS, tabOf, writeView } from "./view.js";
import { DateControl } from "./date_control.js";

const view = readView();
const panels = Object.fromEntries(TABS.map((tab) => [tab, byId(`panel-${tab}`)]));
const detailPanel = byId("detail");
let generation = 0; // a newer refresh makes older answers stale
let editor = null;

function setView(changes, { refresh = true } = {}) {
  Object.assign(view, changes);
  writeView(view);
  if (refresh) void render();
}

const ctx = {
  eventLink(id, text) {
    return h("a", { href: linkTo(view, { event: id }), class: "event-link", dataset: { event: id }, onclick: (e) => { e.preventDefault(); openDetail(id); } }, text);
  },
  scopeLink(kind, name) {
    const tab = kind === "area" ? "territory" : "talks";
    return h("a", { href: linkTo(view, { [kind]: name, tab }), class: "scope-link", onclick: (e) => { e.preventDefault(); setView({ [kind]: name, tab }); } }, name);
  },
  knownAt: () => view.known_at,
  closeButton: () => h("button", { type: "button", class: "close", onclick: closeDetail }, "Close"),
  correct(event) {
    closeDetail();
    editor.open({ type: event.type, data: event.data, source: event.source, occurred_at: event.occurred_at, reported_at: event.reported_at || undefined, supersedes: event.id });
    setView({ tab: "editor" });
  },
  retract(event) {
    closeDetail();
    editor.open({ type: "event.retracted", data: { target_event_id: event.id }, occurred_at: today() });
    setView({ tab: "editor" });
  },
  viewBefore(event) {
    closeDetail();
    setView({ known_at: justBefore(event.recorded_at) });
  },
};

// -- the parts -------------------------------------------------------------------------

const cut = () => ({ as_of: view.as_of, known_at: view.known_at });

// The viewer asks bounded questions only, so that it stays quick on a log of millions:
// a page of areas (or tracks) at a time, and the latest items of the lists that grow
// with the log, each with a way to see more.
const AREAS_PAGE = 50;
const TRACKS_PAGE = 20;
const LATEST = 20;
const shown = { areasAfter: [], tracksAfter: [], everyItem: false }; // what "more" buttons asked

function pagesNote(next, label, onMore) {
  return next ? h("p", { class: "more-note" }, h("button", { type: "button", class: "more", onclick: onMore }, `Show more ${label}`)) : null;
}

async function territoryPanel() {
  if (view.area) {
    const [answer, history] = await Promise.all([
      get("/state/territory", { ...cut(), area: view.area }, "territory"),
      get(`/state/territory/${encodeURIComponent(view.area)}/history`, { known_at: view.known_at }, "history"),
    ]);
    return [answer, [
      h("p", { class: "scope-note" }, `One area: ${view.area}. `, h("a", { href: linkTo(view, { area: null }), onclick: (e) => { e.preventDefault(); setView({ area: null }); } }, "Show every area")),
      territoryView(answer.areas, ctx),
      h("section", { class: "history-section" }, h("h3", {}, `${view.area} over time`), historyView(history, answer.as_of, (from) => setView({ as_of: dayOf(from) }))),
    ]];
  }
  // Every page asked for so far, read again: the view stays consistent as the cut moves.
  const pages = await Promise.all([null, ...shown.areasAfter].map((after) => get("/state/territory", { ...cut(), areas_limit: AREAS_PAGE, areas_after: after })));
  const answer = pages[0];
  const areas = Object.assign({}, ...pages.map((page) => page.areas));
  const next = pages[pages.length - 1].next_areas_after;
  return [answer, [territoryView(areas, ctx), pagesNote(next, "areas", () => { shown.areasAfter.push(next); void render(); })]];
}

function latestNote(answer) {
  const shortened = Object.values(answer.tracks || { diplomacy: answer }).some((t) => t.more && Object.keys(t.more).length);
  if (!shortened || shown.everyItem) return null;
  return h("p", { class: "more-note" }, `Lists of proposals, rounds, meetings and statements show their latest ${LATEST}. `, h("button", { type: "button", class: "more", onclick: () => { shown.everyItem = true; void render(); } }, "Show every one"));
}

async function talksPanel() {
  const latest = shown.everyItem ? {} : { limit: LATEST };
  if (view.track) {
    const answer = await get("/state/talks", { ...cut(), track: view.track, ...latest }, "talks");
    const note = h("p", { class: "scope-note" }, `One track: ${view.track}. `, h("a", { href: linkTo(view, { track: null }), onclick: (e) => { e.preventDefault(); setView({ track: null }); } }, "Show every track"));
    return [answer, [note, talksView(answer.tracks, ctx), latestNote(answer)]];
  }
  const pages = await Promise.all([null, ...shown.tracksAfter].map((after) => get("/state/talks", { ...cut(), ...latest, tracks_limit: TRACKS_PAGE, tracks_after: after })));
  const tracks = Object.assign({}, ...pages.map((page) => page.tracks));
  const next = pages[pages.length - 1].next_tracks_after;
  const answer = { ...pages[0], tracks };
  return [answer, [talksView(tracks, ctx), latestNote(answer), pagesNote(next, "tracks", () => { shown.tracksAfter.push(next); void render(); })]];
}

async function diplomacyPanel() {
  const answer = await get("/state/diplomacy", { ...cut(), ...(shown.everyItem ? {} : { limit: LATEST }) }, "diplomacy");
  return [answer, [diplomacyView(answer, ctx), latestNote(answer)]];
}

function compareForm() {
  const fromDate = h("input", { type: "date", id: "from-as-of", value: view.from_as_of && isDate(view.from_as_of) ? view.from_as_of : "" });
  const fromKnown = h("input", { type: "text", id: "from-known-at", value: view.from_known_at || "", placeholder: "2025-04-26T18:00:00Z", autocomplete: "off" });
  const error = h("p", { class: "field-error", id: "compare-error", hidden: true });
  const submit = (e) => {
    e.preventDefault();
    const known = fromKnown.value.trim();
    if (known && !isQueryInstant(known)) {
      error.hidden = false;
      error.textContent = "“As known at” takes a date or a date-time with an offset.";
      return;
    }
    if (!fromDate.value && !known) {
      error.hidden = false;
      error.textContent = "Give an earlier date, an earlier “known at”, or both.";
      return;
    }
    setView({ from_as_of: fromDate.value || null, from_known_at: known || null });
  };
  return h(
    "form",
    { class: "compare-form", onsubmit: submit },
    h("p", { class: "hint" }, "Compare the view above with an earlier date, or with what was known at an earlier moment (each defaults to the view's own)."),
    h("div", { class: "form-field" }, h("label", { for: "from-as-of" }, "Earlier date"), fromDate),
    h("div", { class: "form-field" }, h("label", { for: "from-known-at" }, "Earlier “as known at”"), fromKnown),
    error,
    h("button", { type: "submit" }, "Compare"),
  );
}

async function changesPanel() {
  const form = compareForm();
  if (!view.from_as_of && !view.from_known_at) {
    const answer = await get("/state/diplomacy", cut(), "changes");
    return [answer, [form]];
  }
  // One area (or one track) chosen: only its part is compared, as its view shows only it.
  const part = view.area && !view.track ? "territory" : view.track && !view.area ? "talks" : null;
  const params = { ...cut(), from_as_of: view.from_as_of, from_known_at: view.from_known_at, area: view.area, track: view.track, part };
  const answer = await get("/state/changes", params, "changes");
  const whole = part ? { ...answer, [part]: part === "territory" ? { areas: answer.areas } : { tracks: answer.tracks } } : answer;
  return [answer, [form, changesView(whole, ctx)]];
}

const PANELS = { territory: territoryPanel, talks: talksPanel, diplomacy: diplomacyPanel, changes: changesPanel };

// -- rendering -------------------------------------------------------------------------

const live = new Live(byId("live"), () => {
  void dateControl.load(view.known_at);
  void render();
  if (view.event) void showEvent(detailPanel, view.event, ctx);
});
const dateControl = new DateControl(byId("date-control"), (asOf) => setView({ as_of: asOf }));

function showTabs(tab) {
  for (const name of TABS) {
    const selected = name === tab;
    panels[name].hidden = !selected;
    const button = byId(`tab-${name}`);
    button.setAttribute("aria-selected", selected ? "true" : "false");
    button.tabIndex = selected ? 0 : -1;
  }
}

function summary(answer) {
  const when = view.as_of && isDate(view.as_of) ? `at the end of ${view.as_of} (UTC)` : view.as_of ? `at ${answer.as_of}` : "now";
  const known = view.known_at ? `as known at ${answer.known_at}` : "as known now";
  return `The state ${when}, ${known}: the log up to position ${answer.position}.`;
}

async function render() {
  const mine = (generation += 1);
  const tab = tabOf(view);
  showTabs(tab);
  dateControl.show(view.as_of);
  knownAtInput.value = view.known_at || "";
  byId("known-at-state").textContent = view.known_at ? `Frozen at ${view.known_at}` : "Now: live";
  if (!PANELS[tab]) {
    document.body.dataset.ready = "true"; // the editor and the intake show no state
    live.follow(live.newest, !isLive(view));
    return;
  }
  // Not ready until this answer is shown: tests and benchmarks wait on the flag after a move.
  document.body.dataset.ready = "false";
  try {
    const [answer, body] = await PANELS[tab]();
    if (mine !== generation) return;
    replaceChildren(panels[tab], body);
    byId("summary").textContent = summary(answer);
    hideBanner();
    document.body.dataset.position = String(answer.position);
    document.body.dataset.ready = "true";
    live.follow(answer.position, !isLive(view));
  } catch (problem) {
    if (problem.name === "AbortError" || mine !== generation) return;
    showBanner(problem.message);
  }
}

function showBanner(text) {
  const banner = byId("banner");
  banner.hidden = false;
  banner.textContent = text;
}

function hideBanner() {
  byId("banner").hidden = true;
}

async function openDetail(id) {
  setView({ event: id }, { refresh: false });
  detailPanel.hidden = false;
  await showEvent(detailPanel, id, ctx);
}

function closeDetail() {
  detailPanel.hidden = true;
  replaceChildren(detailPanel);
  setView({ event: null }, { refresh: false });
}

// -- controls --------------------------------------------------------------------------

const knownAtInput = byId("known-at");
byId("known-at-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = knownAtInput.value.trim();
  const error = byId("known-at-error");
  if (value && !isQueryInstant(value)) {
    error.hidden = false;
    error.textContent = "A date (2025-04-26) or a date-time with an offset (2025-04-26T18:00:00Z).";
    return;
  }
  error.hidden = true;
  setView({ known_at: value || null });
  void dateControl.load(value || null);
});
byId("known-at-now").addEventListener("click", () => {
  byId("known-at-error").hidden = true;
  setView({ known_at: null });
  void dateControl.load(null);
});
byId("pause").addEventListener("click", (e) => {
  const paused = live.togglePause();
  e.currentTarget.textContent = paused ? "Resume" : "Pause";
  e.currentTarget.setAttribute("aria-pressed", paused ? "true" : "false");
});
for (const tab of TABS) byId(`tab-${tab}`).addEventListener("click", () => setView({ tab }));
byId("tabs").addEventListener("keydown", (e) => {
  if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
  const index = TABS.indexOf(tabOf(view));
  const next = TABS[(index + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length];
  setView({ tab: next });
  byId(`tab-${next}`).focus();
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !detailPanel.hidden) closeDetail();
});

// The write key: typed in, kept in this tab's sessionStorage, sent only as a header.
const keyInput = byId("key-input");
const keyState = byId("key-state");
const showKeyState = () => (keyState.textContent = key.get() ? "A write key is set for this tab." : "No write key: you can read, not record.");
byId("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  key.set(keyInput.value.trim());
  keyInput.value = "";
  showKeyState();
});
byId("key-forget").addEventListener("click", () => {
  key.set("");
  showKeyState();
});
showKeyState();

// -- start -----------------------------------------------------------------------------

async function start() {
  let types;
  try {
    types = (await get("/types")).types;
  } catch (problem) {
    showBanner(problem.message);
    return;
  }
  live.setTypes(types.map((t) => t.type));
  editor = new Editor(panels.editor, {
    types,
    onStored: () => {},
    eventLink: ctx.eventLink,
    askForKey: () => keyInput.focus(),
  });
  new Intake(panels.intake, (draft) => {
    editor.open(draft);
    setView({ tab: "editor" });
    panels.editor.querySelector("#editor-type")?.focus();
  });
  await Promise.all([dateControl.load(view.known_at), render()]);
  if (view.event) void openDetail(view.event);
}

void start();
