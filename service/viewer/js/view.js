// The view is what the URL says: opening a permalink shows exactly that view, and every
// move the user makes is written back to the URL (history.replaceState), so the address
// bar can always be copied and shared.

export const TABS = ["territory", "talks", "diplomacy", "changes", "editor", "intake"];
const KEYS = ["as_of", "known_at", "area", "track", "tab", "from_as_of", "from_known_at", "event"];

export function readView(search = window.location.search) {
  const params = new URLSearchParams(search);
  const view = {};
  for (const name of KEYS) {
    const value = params.get(name);
    view[name] = value === null || value === "" ? null : value;
  }
  if (!TABS.includes(view.tab)) view.tab = null;
  return view;
}

// Colons are left as they are (RFC 3986 allows them in a query), so that a permalink's
// instants stay readable; a "+" of an offset is always %2B.
const encode = (value) => encodeURIComponent(value).replace(/%3A/gi, ":");

export function viewSearch(view) {
  const pairs = KEYS.filter((name) => view[name]).map((name) => `${name}=${encode(view[name])}`);
  return pairs.length ? `?${pairs.join("&")}` : "";
}

export function writeView(view) {
  const url = `${window.location.pathname}${viewSearch(view)}`;
  if (url !== `${window.location.pathname}${window.location.search}`) {
    window.history.replaceState(null, "", url);
  }
}

/** A link to the same view with some keys changed (for links that can be opened apart). */
export function linkTo(view, changes) {
  return `/${viewSearch({ ...view, ...changes })}`;
}

/** The tab shown: the URL's, else territory. */
export function tabOf(view) {
  return view.tab || "territory";
}

/** Live means "as known now": no known_at in the view. */
export function isLive(view) {
  return !view.known_at;
}
