// Working through a report: paste its text and say where it came from, select the
// passage a development rests on, and start an event whose quote is that passage and
// whose source is the report, so that every development keeps the words it came from.

import { h, replaceChildren } from "./dom.js";
import { isDateTime } from "./instants.js";
import { SOURCE_SCHEMA } from "./editor.js";

const QUOTE_LIMIT = SOURCE_SCHEMA.properties.quote.maxLength;

export class Intake {
  constructor(root, startEvent) {
    this.root = root;
    this.startEvent = startEvent;
    this.render();
  }

  render() {
    const field = (id, text, control, hintText) =>
      h("div", { class: "form-field" }, h("label", { for: id }, text), hintText ? h("p", { class: "hint", id: `${id}-hint` }, hintText) : null, control);
    this.text = h("textarea", { id: "intake-text", rows: 14, "aria-describedby": "intake-text-hint", oninput: () => this.update(), onselect: () => this.update(), onkeyup: () => this.update(), onmouseup: () => this.update() });
    this.name = h("input", { id: "intake-name", type: "text", autocomplete: "off" });
    this.kind = h("select", { id: "intake-kind" }, SOURCE_SCHEMA.properties.kind.enum.map((k) => h("option", { value: k, selected: k === "media" }, k.replace("_", " "))));
    this.url = h("input", { id: "intake-url", type: "url", autocomplete: "off" });
    this.published = h("input", { id: "intake-published", type: "text", placeholder: "2025-04-26T17:30:00Z", "aria-describedby": "intake-published-hint", autocomplete: "off" });
    this.selection = h("p", { class: "selection", role: "status", "aria-live": "polite" });
    this.button = h("button", { type: "button", class: "primary", id: "intake-start", disabled: true, onclick: () => this.start() }, "Start an event from the selected passage");
    replaceChildren(
      this.root,
      h("h2", {}, "Intake: from a report to events"),
      h("p", { class: "hint" }, "Paste a report, say who published it, then select the words a development rests on and start an event from them. Repeat for each development."),
      h(
        "div",
        { class: "intake" },
        h(
          "div",
          { class: "intake-source" },
          field("intake-name", "Source name (the report's publisher or title)", this.name),
          field("intake-kind", "Kind of source", this.kind),
          field("intake-url", "URL", this.url),
          field("intake-published", "Published at", this.published, "A date-time with an offset; it becomes the events' reported_at"),
        ),
        field("intake-text", "Report text", this.text, "Select a passage here (mouse, or Shift and the arrow keys)"),
      ),
      this.selection,
      this.button,
    );
    this.update();
  }

  passage() {
    const { selectionStart: start, selectionEnd: end, value } = this.text;
    return value.slice(start, end).trim();
  }

  update() {
    const passage = this.passage();
    this.button.disabled = passage.length === 0 || [...passage].length > QUOTE_LIMIT;
    this.selection.textContent = !passage
      ? "No passage selected."
      : [...passage].length > QUOTE_LIMIT
        ? `The selection is ${[...passage].length} characters; a quote holds at most ${QUOTE_LIMIT}.`
        : `Selected: “${passage.length > 160 ? `${passage.slice(0, 160)}…` : passage}”`;
  }

  start() {
    const quote = this.passage();
    if (!quote) return;
    const source = { name: this.name.value.trim() || undefined, kind: this.kind.value, quote };
    if (this.url.value.trim()) source.url = this.url.value.trim();
    const published = this.published.value.trim();
    const draft = { source };
    if (published) {
      draft.reported_at = published;
      // Most reports tell of the day they were published; the editor lets the desk change it.
      if (isDateTime(published)) draft.occurred_at = published.slice(0, 10);
    }
    this.startEvent(draft);
  }
}
