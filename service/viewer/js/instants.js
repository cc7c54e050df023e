// Instants as the service writes them (YYYY-MM-DDTHH:MM:SS.ffffffZ) and the forms it
// reads, checked here as the server checks them so that a bad value is caught before
// it is sent. Microseconds are kept exactly (BigInt), since JavaScript dates stop at ms.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
const YEAR = /^\d{4}$/;
const MONTH = /^(\d{4})-(\d{2})$/;

function validDate(year, month, day) {
  const y = Number(year), m = Number(month), d = Number(day);
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  const days = new Date(Date.UTC(2000, m, 0)).getUTCDate(); // a leap year's month lengths
  if (d > days) return false;
  if (m === 2 && d === 29) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return true;
}

export function isDate(text) {
  const m = DATE.exec(text);
  return Boolean(m) && validDate(m[1], m[2], m[3]);
}

export function isDateTime(text) {
  const m = DATE_TIME.exec(text);
  if (!m || !validDate(m[1], m[2], m[3])) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) return false;
  if (m[8] !== "Z") {
    const [hours, minutes] = m[8].slice(1).split(":").map(Number);
    if (hours > 23 || minutes > 59) return false;
  }
  return true;
}

/** `as_of` / `known_at` in a query: a date or a date-time with an offset. */
export function isQueryInstant(text) {
  return isDate(text) || isDateTime(text);
}

/** An event's `occurred_at`: YYYY, YYYY-MM, YYYY-MM-DD or a date-time with an offset. */
export function isOccurredAt(text) {
  // A window must end by year 9999, as the server's calendar does.
  if (YEAR.test(text)) return Number(text) >= 1 && Number(text) <= 9998;
  const month = MONTH.exec(text);
  if (month) {
    const [y, m] = [Number(month[1]), Number(month[2])];
    return y >= 1 && m >= 1 && m <= 12 && !(y === 9999 && m === 12);
  }
  return (isDate(text) && text !== "9999-12-31") || isDateTime(text);
}

/** Microseconds since the epoch at which an occurred_at's window starts. */
export function occurredFrom(text) {
  if (YEAR.test(text)) return BigInt(Date.UTC(Number(text), 0, 1)) * 1000n;
  const month = MONTH.exec(text);
  if (month) return BigInt(Date.UTC(Number(month[1]), Number(month[2]) - 1, 1)) * 1000n;
  const day = DATE.exec(text);
  if (day) return BigInt(Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]))) * 1000n;
  return microseconds(text);
}

/** The contract refuses an event that begins more than 24 hours after it is recorded. */
export function beginsTooLate(text) {
  const limit = BigInt(Date.now() + 24 * 3600 * 1000) * 1000n;
  return occurredFrom(text) > limit;
}

/** Microseconds since the epoch of a date-time with an offset. */
export function microseconds(text) {
  const m = DATE_TIME.exec(text);
  if (!m) throw new Error(`not a date-time: ${text}`);
  const fraction = (m[7] || ".").slice(1).padEnd(6, "0");
  const base = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  let offset = 0;
  if (m[8] !== "Z") {
    const sign = m[8][0] === "-" ? -1 : 1;
    const [hours, minutes] = m[8].slice(1).split(":").map(Number);
    offset = sign * (hours * 60 + minutes) * 60_000;
  }
  return BigInt(base - offset) * 1000n + BigInt(fraction);
}

export function formatMicroseconds(value) {
  const ms = Number(value / 1000n);
  const micro = Number(value % 1000n);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, 23)}${String(micro).padStart(3, "0")}Z`;
}

/** The instant just before one: "as known just before this was recorded". */
export function justBefore(instant) {
  return formatMicroseconds(microseconds(instant) - 1n);
}

/** An instant for reading: the date alone when it is midnight UTC. */
export function shortInstant(instant) {
  if (!instant) return "";
  if (instant.endsWith("T00:00:00.000000Z")) return instant.slice(0, 10);
  return instant.replace(/\.000000Z$/, "Z").replace("T", " ");
}

/** The day (YYYY-MM-DD) an as_of falls on. */
export function dayOf(instant) {
  return instant ? instant.slice(0, 10) : "";
}

export function today() {
  return new Date().toISOString().slice(0, 10);
}
