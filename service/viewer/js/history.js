// One area's status over valid time, as known at known_at: a strip of periods, each a
// button that moves the date control there, and the same periods as a list in words.

import { h } from "./dom.js";
import { microseconds, shortInstant } from "./instants.js";

const ms = (instant) => Number(microseconds(instant) / 1000n);

export function historyView(answer, asOf, onPick) {
  const intervals = answer.intervals || [];
  if (!intervals.length) return h("p", { class: "empty" }, "Nothing is known of this area at any date.");
  const start = ms(intervals[0].valid_from);
  const last = intervals[intervals.length - 1];
  const lastChange = ms(last.valid_until || last.valid_from);
  const asOfMs = asOf ? ms(asOf) : Date.now();
  // The open last period is drawn up to the date shown, or a tenth of the span further.
  const end = Math.max(asOfMs, lastChange + Math.max((lastChange - start) / 10, 86_400_000));
  const span = Math.max(end - start, 1);
  const segments = intervals.map((interval) => {
    const from = ms(interval.valid_from);
    const until = interval.valid_until ? ms(interval.valid_until) : end;
    const words = `${interval.status} from ${shortInstant(interval.valid_from)} ${interval.valid_until ? `until ${shortInstant(interval.valid_until)}` : "on"}`;
    const button = h(
      "button",
      { type: "button", class: `segment badge-${interval.status}`, title: words, "aria-label": `${words}; show this date`, onclick: () => onPick(interval.valid_from) },
      h("span", { class: "segment-label" }, interval.status),
    );
    button.style.flexGrow = String(Math.max((until - from) / span, 0.002));
    return button;
  });
  const marker = h("span", { class: "as-of-marker", "aria-hidden": "true" });
  marker.style.left = `${Math.min(Math.max(((asOfMs - start) / span) * 100, 0), 100)}%`;
  return h(
    "div",
    { class: "history" },
    h("div", { class: "strip", role: "group", "aria-label": "Status by period" }, segments, marker),
    h(
      "ol",
      { class: "periods" },
      intervals.map((interval) =>
        h(
          "li",
          {},
          h("span", { class: "period-dates" }, `${shortInstant(interval.valid_from)} – ${interval.valid_until ? shortInstant(interval.valid_until) : "open"}`),
          " ",
          h("span", { class: `badge badge-${interval.status}` }, interval.status),
          ` ${interval.claims.length} claim(s), ${interval.denials.length} denial(s), ${interval.assessments.length} assessment(s)`,
        ),
      ),
    ),
  );
}
