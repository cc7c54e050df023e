// Recording a development without writing JSON: a form for each catalog type, built from
// GET /types, checked here as the server checks it, and sent with an id made when the
// form opens, so that a retry after a lost answer can never store the event twice.

import { key, newId, post, Problem } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { clearErrors, objectForm, showErrors } from "./schema_form.js";

// The envelope's own fields, as the server's Source schema and envelope rules have them
// (a test compares this copy with GET /openapi.json).
export const SOURCE_SCHEMA = {
  type: "object",
  required: ["name", "kind"],
  properties: {
    name: { type: "string", title: "Source name", minLength: 1, maxLength: 200, description: "Who published the report: a paper, a ministry, an institute" },
    kind: { type: "string", title: "Kind of source", enum: ["government", "military", "media", "think_tank", "intelligence", "international_org", "ngo", "other"] },
    url: { type: "string", title: "URL", pattern: "^https?://[^\\s]+$", maxLength: 2000, description: "http or https" },
    quote: { type: "string", title: "Quote", maxLength: 2000, description: "The report's own words for this development" },
  },
};
export const TIMING_SCHEMA = {
  type: "object",
  required: ["occurred_at"],
  properties: {
    occurred_at: { type: "string", title: "Occurred at", "x-format": "occurred-at", description: "When it happened, as precisely as reported: 2024, 2024-08, 2024-08-06 or 2024-08-06T05:00:00+03:00" },
    reported_at: { type: "string", title: "Reported at", "x-format": "date-time", description: "When the source published it: a date-time with an offset, such as 2025-04-26T17:30:00Z" },
  },
};

const TITLES = { new: "Record a development", correct: "Correct an event", retract: "Retract an event" };

export class Editor {
  constructor(root, { types, onStored, eventLink, askForKey }) {
    this.root = root;
    this.types = new Map(types.map((t) => [t.type, t]));
    this.onStored = onStored;
    this.eventLink = eventLink;
    this.askForKey = askForKey;
    this.open({});
  }

  /** Start a form: `draft` may give type, data, source, occurred_at, reported_at, and
   * `supersedes` (a correction) or a retraction's target. */
  open(draft) {
    this.mode = draft.supersedes ? "correct" : draft.type === "event.retracted" && draft.data?.target_event_id ? "retract" : "new";
    this.id = newId();
    this.draft = draft;
    this.type = draft.type || this.type || "territory.control_claimed";
    this.render();
  }

  render() {
    const draft = this.draft;
    this.timing = objectForm("When", TIMING_SCHEMA, "", { occurred_at: draft.occurred_at, reported_at: draft.reported_at });
    this.source = objectForm("Source", SOURCE_SCHEMA, "/source", draft.source || {});
    this.status = h("div", { class: "form-status", role: "status", "aria-live": "polite" });
    this.typeSelect = h(
      "select",
      { id: "editor-type", disabled: this.mode !== "new", onchange: () => this.changeType(this.typeSelect.value) },
      [...this.types.keys()].map((name) => h("option", { value: name, selected: name === this.type }, name)),
    );
    this.dataSlot = h("div", { class: "data-slot" });
    this.form = h(
      "form",
      { class: "editor-form", novalidate: true, method: "post", onsubmit: (e) => { e.preventDefault(); this.submit(); } },
      h("h2", {}, TITLES[this.mode]),
      this.mode === "correct" ? h("p", { class: "notice" }, "This event will supersede ", this.eventLink(draft.supersedes, draft.supersedes), ": it is shown instead of it from now on, and the log keeps both.") : null,
      this.mode === "retract" ? h("p", { class: "notice" }, "This retracts ", this.eventLink(draft.data.target_event_id, draft.data.target_event_id), ": it stops counting from now on, and the log keeps both.") : null,
      h("div", { class: "form-field" }, h("label", { for: "editor-type" }, "Type of development"), this.typeSelect),
      this.timing.element,
      this.source.element,
      this.dataSlot,
      h("p", { class: "hint" }, "Event id (sent with the event, so that sending it again stores it once): ", h("code", { class: "event-id" }, this.id)),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, this.mode === "retract" ? "Retract" : "Record"), this.mode !== "new" ? h("button", { type: "button", onclick: () => this.open({}) }, "Cancel") : null),
      this.status,
    );
    this.changeType(this.type, draft.data || {});
    replaceChildren(this.root, this.form);
  }

  changeType(type, initial = null) {
    const keep = initial || this.data?.read() || {};
    this.type = type;
    const schema = this.types.get(type).data_schema;
    this.data = objectForm(`Details of ${type}`, schema, "/data", keep);
    replaceChildren(this.dataSlot, this.data.element);
  }

  envelope() {
    const timing = this.timing.read();
    const body = { id: this.id, type: this.type, occurred_at: timing.occurred_at, source: this.source.read(), data: this.data.read() };
    if (timing.reported_at !== undefined) body.reported_at = timing.reported_at;
    if (this.draft.supersedes) body.supersedes = this.draft.supersedes;
    if (body.occurred_at === undefined) delete body.occurred_at;
    return body;
  }

  say(kind, ...content) {
    this.status.className = `form-status ${kind}`;
    replaceChildren(this.status, ...content);
  }

  async submit() {
    clearErrors(this.form);
    const forms = [this.timing, this.source, this.data];
    const errors = forms.flatMap((form) => form.validate());
    if (errors.length) {
      showErrors(forms, errors);
      this.say("error", `Check the ${errors.length === 1 ? "field" : `${errors.length} fields`} marked below.`);
      this.form.querySelector(".invalid input, .invalid select, .invalid textarea, .invalid [tabindex]")?.focus();
      return;
    }
    if (!key.get()) {
      this.say("error", "A write key is needed to record events: enter it under “Write key” at the top.");
      this.askForKey();
      return;
    }
    const body = this.envelope();
    this.say("pending", "Sending…");
    try {
      const { status, body: stored } = await post("/events", body, (attempt) => this.say("pending", `No answer yet; sending again (attempt ${attempt + 1}), with the same id…`));
      this.say("ok", status === 201 ? "Recorded at position " : "Already stored (nothing new was written), at position ", String(stored.position), ": ", this.eventLink(stored.id, "see the event"));
      const keepSource = this.mode === "new";
      this.onStored(stored);
      if (keepSource) {
        // Ready for the next development of the same report: the source stays, the id is new.
        this.draft = { type: this.type, source: this.source.read(), occurred_at: body.occurred_at, reported_at: body.reported_at };
        const message = [...this.status.childNodes];
        this.id = newId();
        this.render();
        this.say("ok", ...message);
      }
    } catch (problem) {
      if (!(problem instanceof Problem)) throw problem;
      this.showProblem(problem, forms);
    }
  }

  showProblem(problem, forms) {
    if (problem.status === 401 || problem.status === 403) {
      this.say("error", `${problem.message} Enter a key with the write scope under “Write key”.`);
      this.askForKey();
      return;
    }
    const placed = problem.errors.map((e) => ({ pointer: e.path, message: e.message }));
    const unplaced = showErrors(forms, placed);
    const corrected = problem.body.corrected_by;
    this.say(
      "error",
      `${problem.body.title || "Refused"}: ${problem.message}`,
      corrected ? h("span", {}, " Already corrected by ", this.eventLink(corrected, corrected), ".") : null,
      unplaced.length ? h("ul", {}, unplaced.map((e) => h("li", {}, `${e.pointer || "(the event)"}: ${e.message}`))) : null,
    );
    this.form.querySelector(".invalid input, .invalid select, .invalid textarea")?.focus();
  }
}
