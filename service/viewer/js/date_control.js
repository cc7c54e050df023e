// The date control: a slider over the days on which something happened (it snaps to
// them), a field for any date, and steps to the previous and next such day. The last
// stop of the slider is "today", which is the view without an as_of.

import { get } from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { dayOf, isDate, today } from "./instants.js";

export class DateControl {
  constructor(root, onPick) {
    this.root = root;
    this.onPick = onPick;
    this.days = [];
    this.asOf = null;
    this.slider = h("input", { type: "range", id: "as-of-slider", min: 0, max: 0, step: 1, value: 0, "aria-describedby": "as-of-label" });
    this.field = h("input", { type: "date", id: "as-of-date" });
    this.label = h("output", { id: "as-of-label", for: "as-of-slider" });
    this.previous = h("button", { type: "button", id: "as-of-previous", "aria-label": "Previous day with reports" }, "◀");
    this.next = h("button", { type: "button", id: "as-of-next", "aria-label": "Next day with reports" }, "▶");
    this.todayButton = h("button", { type: "button", id: "as-of-today" }, "Today");
    this.slider.addEventListener("input", () => this.showSlider());
    this.slider.addEventListener("change", () => this.pick(this.dayAt(Number(this.slider.value))));
    this.field.addEventListener("change", () => {
      if (isDate(this.field.value)) this.pick(this.field.value);
    });
    this.previous.addEventListener("click", () => this.step(-1));
    this.next.addEventListener("click", () => this.step(1));
    this.todayButton.addEventListener("click", () => this.pick(null));
    // Until the days are known the slider has no stops: a key pressed then would be lost.
    this.setLoaded(false);
    replaceChildren(
      root,
      h("label", { for: "as-of-slider" }, "Date (as of)"),
      h("div", { class: "slider-row" }, this.previous, this.slider, this.next),
      h("div", { class: "date-row" }, this.label, h("label", { for: "as-of-date", class: "visually-hidden" }, "Any date"), this.field, this.todayButton),
    );
  }

  /** The days with reports, as known at `knownAt` (the head when null). */
  async load(knownAt) {
    try {
      const answer = await get("/events/days", { known_at: knownAt }, "days");
      this.days = answer.days;
    } catch (problem) {
      if (problem.name === "AbortError") return;
      this.days = [];
    }
    this.slider.max = String(this.days.length); // the last stop is today
    this.show(this.asOf);
    this.setLoaded(true);
  }

  setLoaded(loaded) {
    for (const control of [this.slider, this.previous, this.next]) control.disabled = !loaded;
    this.root.dataset.loaded = loaded ? "true" : "false";
    this.root.setAttribute("aria-busy", loaded ? "false" : "true");
  }

  /** `null`: today. Otherwise the value of the chosen stop. */
  dayAt(index) {
    return index >= this.days.length ? null : this.days[index];
  }

  /** The slider's stop for an as_of: the last day with reports on or before it. */
  indexOf(asOf) {
    if (!asOf) return this.days.length;
    const day = dayOf(asOf);
    let index = 0;
    for (let i = 0; i < this.days.length; i += 1) if (this.days[i] <= day) index = i;
    return index;
  }

  show(asOf) {
    this.asOf = asOf;
    this.slider.value = String(this.indexOf(asOf));
    this.field.value = asOf ? dayOf(asOf) : today();
    this.label.textContent = asOf ? (isDate(asOf) ? `${asOf} (end of day, UTC)` : asOf) : "today";
    this.slider.setAttribute("aria-valuetext", this.label.textContent);
  }

  showSlider() {
    const day = this.dayAt(Number(this.slider.value));
    this.label.textContent = day ? `${day} (end of day, UTC)` : "today";
    this.slider.setAttribute("aria-valuetext", this.label.textContent);
  }

  step(direction) {
    const day = this.asOf ? dayOf(this.asOf) : today();
    const candidates = direction < 0 ? this.days.filter((d) => d < day) : this.days.filter((d) => d > day);
    if (!candidates.length) return direction > 0 ? this.pick(null) : undefined;
    this.pick(direction < 0 ? candidates[candidates.length - 1] : candidates[0]);
  }

  pick(day) {
    this.onPick(day);
  }
}
