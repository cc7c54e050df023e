// Building the page. Every text that comes from an event or from the server becomes a
// text node: nothing here parses HTML, so a quote such as `<img src=x onerror=...>`
// shows those characters and runs nothing.

/** h("div", {class: "x", onclick: fn}, "text", child, [more]) -> an element. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function replaceChildren(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`no #${id} in the page`);
  return element;
}

/** A status badge: its word is always shown, colour only repeats it. */
export function badge(word, kind = word) {
  return h("span", { class: `badge badge-${kind}` }, word);
}

/** The marker of a tentative item: said in words, and styled apart. */
export function tentativeMark(tentative) {
  return tentative
    ? h("span", { class: "tentative-mark", title: "The reported period is not over at this date" }, "tentative")
    : null;
}
