// Talking to the service: JSON in and out, problems (RFC 9457) as errors, the write key.
//
// The key is typed in by the user and kept in sessionStorage only: it is sent in the
// Authorization header, never in a URL, and forgotten when the tab is closed.

const KEY = "timeline.key";

export const key = {
  get: () => sessionStorage.getItem(KEY) || "",
  set: (value) => (value ? sessionStorage.setItem(KEY, value) : sessionStorage.removeItem(KEY)),
};

/** A problem answer, or a failure to get any answer (`status` 0). */
export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.errors = Array.isArray(body.errors) ? body.errors : [];
  }
}

function headers(extra = {}) {
  const token = key.get();
  return { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}), ...extra };
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

async function answer(response) {
  const text = await response.text();
  let body = {};
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    body = { detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new Problem(response.status, body);
  return { status: response.status, body };
}

/** GET a JSON answer; a newer call with the same `slot` cancels the older one. */
const inFlight = new Map();
export async function get(path, params = {}, slot = null) {
  let signal;
  if (slot) {
    inFlight.get(slot)?.abort();
    const controller = new AbortController();
    inFlight.set(slot, controller);
    signal = controller.signal;
  }
  let response;
  try {
    response = await fetch(path + query(params), { headers: headers(), signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Problem(0, { title: "No answer", detail: "The service did not answer; is it running?" });
  }
  return (await answer(response)).body;
}

const RETRIES = [500, 1500, 4000]; // ms before each new attempt

/** POST a JSON body. An attempt that gets no answer, or a 502-504, is sent again as it
 * was: the body carries its event id, so a retry whose first attempt was stored after
 * all is answered 200 with that event, never stored twice. */
export async function post(path, body, onRetry = () => {}) {
  for (let attempt = 0; ; attempt += 1) {
    let response = null;
    try {
      response = await fetch(path, {
        method: "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify(body),
      });
    } catch {
      response = null;
    }
    const retriable = response === null || [502, 503, 504].includes(response.status);
    if (!retriable || attempt >= RETRIES.length) {
      if (response === null) {
        throw new Problem(0, { title: "No answer", detail: "The service did not answer; try again." });
      }
      return answer(response);
    }
    onRetry(attempt + 1);
    await new Promise((resolve) => setTimeout(resolve, RETRIES[attempt]));
  }
}

/** A version 4 UUID from the platform's random source (crypto.randomUUID needs a
 * secure context; the service is often reached over plain HTTP on a local network). */
export function newId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
