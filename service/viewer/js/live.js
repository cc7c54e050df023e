// New events over Server-Sent Events while the view is "as known now". The browser's
// EventSource reconnects by itself and resumes after the last id it saw; the indicator
// says which of live, reconnecting, paused or frozen (an explicit "known at") holds.

const WORDS = {
  live: "Live: new reports appear as they are recorded",
  reconnecting: "Reconnecting to the live stream…",
  paused: "Paused: new reports are not shown until you resume",
  frozen: "Frozen: showing what was known at the chosen moment",
  offline: "Live updates are not available in this browser",
};

export class Live {
  constructor(indicator, onEvents) {
    this.indicator = indicator;
    this.onEvents = onEvents;
    this.source = null;
    this.paused = false;
    this.frozen = false;
    this.timer = null;
    this.after = 0;
    this.newest = 0;
  }

  /** Follow the log after `position` (the view's), unless frozen or paused. */
  follow(position, frozen) {
    this.frozen = frozen;
    this.newest = Math.max(this.newest, position);
    if (frozen || this.paused) {
      this.close();
      this.show(frozen ? "frozen" : "paused");
      return;
    }
    if (this.source && this.source.readyState !== EventSource.CLOSED) return; // already following
    this.open(this.newest);
  }

  open(after) {
    if (typeof EventSource === "undefined") return this.show("offline");
    this.close();
    this.show("reconnecting");
    this.source = new EventSource(`/events/stream?after=${after}`);
    this.source.onopen = () => this.show("live");
    this.source.onerror = () => this.show(this.source && this.source.readyState === EventSource.CLOSED ? "offline" : "reconnecting");
    this.source.onmessage = () => {}; // every message has a type: see below
    const seen = (message) => {
      const position = Number(message.lastEventId);
      if (!(position > this.newest)) return;
      this.newest = position;
      // A burst of appends is one refresh: the view is fetched again once it settles.
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.onEvents(this.newest), 150);
    };
    // Messages are named by event type; listen to every type the catalog has.
    for (const type of this.types || []) this.source.addEventListener(type, seen);
  }

  setTypes(types) {
    this.types = types;
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
  }

  togglePause() {
    this.paused = !this.paused;
    if (this.paused) {
      this.close();
      this.show("paused");
    } else if (!this.frozen) {
      this.open(this.newest);
    }
    return this.paused;
  }

  show(state) {
    this.state = state;
    this.indicator.dataset.state = state;
    this.indicator.textContent = WORDS[state];
  }
}
