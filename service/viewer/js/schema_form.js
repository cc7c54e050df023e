// A form built from a JSON Schema as GET /types gives it (strings, enums, numbers, whole
// numbers, lists of strings, maps of slugs, objects of these), which reads back the object to send and checks it as the
// server does: required keys, patterns, lengths, enums, minimums, list sizes, distinct
// items, and the `x-` rules the catalog states (docs/api.md).

import { h } from "./dom.js";
import { isDate, isDateTime, isOccurredAt, beginsTooLate, microseconds } from "./instants.js";

const LONG_TEXT = 300; // longer strings get a text area
const codePoints = (text) => [...text].length;
// U+0000 and lone surrogates are refused everywhere (CONTRACT section 2).
const BAD_CHARACTERS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function label(name, schema) {
  return schema.title || name.replace(/_/g, " ");
}

/** The message for one string, or null. */
function checkString(value, schema) {
  if (typeof value !== "string") return "expected text";
  if (BAD_CHARACTERS.test(value)) return "holds a character that cannot be stored (U+0000 or a lone surrogate)";
  if (schema.enum && !schema.enum.includes(value)) return `expected one of: ${schema.enum.join(", ")}`;
  if (schema.minLength !== undefined && codePoints(value) < schema.minLength) {
    return schema.minLength === 1 ? "may not be empty" : `needs at least ${schema.minLength} characters`;
  }
  if (schema.maxLength !== undefined && codePoints(value) > schema.maxLength) return `at most ${schema.maxLength} characters`;
  if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) {
    return /\[a-z0-9-\]/.test(schema.pattern)
      ? "lowercase letters, digits and hyphens only (a slug such as ru-kursk-oblast)"
      : /\[a-z0-9\]/.test(schema.pattern)
        ? "lowercase letters and digits only (a party code such as ru, without hyphens)"
        : `does not match ${schema.pattern}`;
  }
  const format = schema["x-format"];
  if (format === "day-or-date-time" && !(isDate(value) || isDateTime(value))) return "expected a date (2025-04-26) or a date-time with an offset (2025-04-26T17:30:00Z)";
  if (format === "date-time" && !isDateTime(value)) return "expected a date-time with seconds and an offset, such as 2025-04-26T17:30:00Z";
  if (format === "occurred-at") {
    if (!isOccurredAt(value)) return "expected YYYY, YYYY-MM, YYYY-MM-DD or a date-time with an offset (2025-04-26T17:30:00Z)";
    if (beginsTooLate(value)) return "begins more than 24 hours from now";
  }
  return null;
}

function startOf(value, endOfDay) {
  if (isDate(value)) return microseconds(`${value}T00:00:00Z`) + (endOfDay ? 86_400_000_000n : 0n);
  return microseconds(value);
}

/** Errors ({pointer, message}) of one value against its schema, within its object. */
export function check(value, schema, required, pointer, whole = {}) {
  if (value === undefined) return required ? [{ pointer, message: "required" }] : [];
  if (schema.type === "number" || schema.type === "integer") {
    if (typeof value !== "number" || !Number.isFinite(value)) return [{ pointer, message: "expected a number" }];
    if (schema.type === "integer" && !Number.isInteger(value)) return [{ pointer, message: "expected a whole number" }];
    if (Math.abs(value) > Number.MAX_SAFE_INTEGER && Number.isInteger(value)) return [{ pointer, message: "too large" }];
    if (schema.minimum !== undefined && value < schema.minimum) return [{ pointer, message: `at least ${schema.minimum}` }];
    return [];
  }
  if (schema.type === "array") {
    if (!Array.isArray(value)) return [{ pointer, message: "expected a list" }];
    const errors = [];
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push({ pointer, message: `needs at least ${schema.minItems} entries` });
    if (schema.uniqueItems && new Set(value).size !== value.length) errors.push({ pointer, message: "entries must be distinct" });
    value.forEach((item, index) => {
      const message = checkString(item, schema.items || {});
      if (message) errors.push({ pointer: `${pointer}/${index}`, message });
    });
    return errors;
  }
  if (schema.type === "object" && schema.properties) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return [{ pointer, message: "expected an object" }];
    const errors = validateObject(schema, pointer, value);
    const order = schema["x-ordered"];
    if (order) {
      const given = order.filter((k) => typeof value[k] === "number").map((k) => value[k]);
      if (given.some((v, index) => index > 0 && given[index - 1] > v)) errors.push({ pointer, message: `${order.join(" <= ")} must hold for the values given` });
    }
    return errors;
  }
  if (schema.type === "object") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return [{ pointer, message: "expected pairs of names and values" }];
    const errors = [];
    const [keyPattern, valueSchema] = Object.entries(schema.patternProperties || {})[0] || [null, {}];
    for (const [k, v] of Object.entries(value)) {
      if (keyPattern && !new RegExp(keyPattern, "u").test(k)) errors.push({ pointer: `${pointer}/${k}`, message: `the name ${JSON.stringify(k)} is not a slug` });
      const message = checkString(v, valueSchema);
      if (message) errors.push({ pointer: `${pointer}/${k}`, message });
    }
    const source = schema["x-keys-from"];
    if (source) {
      for (const k of Object.keys(value)) {
        if (!(Array.isArray(whole[source]) ? whole[source] : []).includes(k)) errors.push({ pointer: `${pointer}/${k}`, message: `${k} is not one of the ${source}` });
      }
    }
    return errors;
  }
  const message = checkString(value, schema);
  if (message) return [{ pointer, message }];
  const other = schema["x-differs-from"];
  if (other && whole[other] === value) return [{ pointer, message: `must differ from ${other}` }];
  const after = schema["x-after"];
  if (after && typeof whole[after] === "string" && (isDate(whole[after]) || isDateTime(whole[after]))) {
    if (startOf(value, true) <= startOf(whole[after], false)) return [{ pointer, message: `must come after ${after}` }];
  }
  return [];
}

/** Required keys first in the schema's order, then the optional ones, `speaker` and `note` last. */
export function orderedFields(schema) {
  const required = schema.required || [];
  const names = Object.keys(schema.properties || {});
  const last = ["speaker", "note"];
  const rank = (name) => (required.includes(name) ? 0 : last.includes(name) ? 2 : 1);
  return names
    .map((name, index) => ({ name, index }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.index - b.index)
    .map(({ name }) => ({ name, schema: schema.properties[name], required: required.includes(name) }));
}

/** Every error of an object against its schema: its fields, and keys it does not know. */
export function validateObject(schema, pointer, value) {
  const errors = orderedFields(schema).flatMap((f) => check(value[f.name], f.schema, f.required, `${pointer}/${f.name}`, value));
  for (const name of Object.keys(value)) {
    if (!(schema.properties || {})[name]) errors.push({ pointer: `${pointer}/${name}`, message: "not a field of this type" });
  }
  return errors;
}

let counter = 0;
const newDomId = (name) => `f-${name.replace(/[^a-z0-9]/gi, "-")}-${(counter += 1)}`;

function errorSlot(id) {
  return h("p", { class: "field-error", id: `${id}-error`, hidden: true });
}

function textControl(id, schema, value, required) {
  const long = (schema.maxLength || 0) > LONG_TEXT && !schema.pattern;
  const attributes = { id, name: id, "aria-describedby": `${id}-error ${id}-hint`, "aria-required": required ? "true" : null };
  if (schema.enum) {
    return h("select", attributes, h("option", { value: "" }, required ? "choose…" : "(none)"), schema.enum.map((option) => h("option", { value: option, selected: option === value }, option)));
  }
  const control = long ? h("textarea", { ...attributes, rows: 3 }) : h("input", { ...attributes, type: "text", inputmode: schema.type === "number" ? "decimal" : schema.type === "integer" ? "numeric" : null, autocomplete: "off" });
  if (value !== undefined && value !== null) control.value = String(value);
  return control;
}

/** One field: its element, how to read it back, and where its errors go. */
function buildField(name, schema, required, pointer, initial) {
  const id = newDomId(name);
  const hintText = schema.description || hint(schema);
  const heading = h("label", { for: id }, label(name, schema), required ? h("span", { class: "required" }, " (required)") : null);
  const hintElement = h("p", { class: "hint", id: `${id}-hint` }, hintText);
  const error = errorSlot(id);
  const wrapper = h("div", { class: "form-field", dataset: { pointer } });
  const errorsAt = new Map([[pointer, error]]);
  let read;
  if (schema.type === "object" && schema.properties) {
    // A nested object (a clash's deaths): its own fieldset; empty, it is left out.
    const nested = objectForm(label(name, schema), schema, pointer, initial || {});
    wrapper.append(hintElement, nested.element);
    read = () => {
      const value = nested.read();
      return Object.keys(value).length || required ? value : undefined;
    };
    errorsAt.set(pointer, nested.slotFor(pointer));
    wrapper.rowsErrorAt = (subPointer) => nested.slotFor(subPointer);
  } else if (schema.type === "array" || schema.type === "object") {
    const rows = h("ul", { class: "rows", id, "aria-describedby": `${id}-error ${id}-hint`, tabindex: "-1" });
    const isMap = schema.type === "object";
    const addRow = (entry = isMap ? ["", ""] : "") => {
      const index = rows.children.length;
      const inputs = isMap
        ? [h("input", { type: "text", "aria-label": `${label(name, schema)} ${index + 1}: who`, value: entry[0], autocomplete: "off" }), h("input", { type: "text", "aria-label": `${label(name, schema)} ${index + 1}: for which party`, value: entry[1], autocomplete: "off" })]
        : [h("input", { type: "text", "aria-label": `${label(name, schema)} ${index + 1}`, value: entry, autocomplete: "off" })];
      const rowError = h("p", { class: "field-error", hidden: true });
      const row = h("li", { class: "row" }, inputs, h("button", { type: "button", class: "remove", "aria-label": `Remove ${label(name, schema)} ${index + 1}`, onclick: () => row.remove() }, "Remove"), rowError);
      row.inputs = inputs;
      row.error = rowError;
      rows.append(row);
      return inputs[0];
    };
    const initialRows = isMap ? Object.entries(initial || {}) : initial || [];
    initialRows.forEach((entry) => addRow(entry));
    wrapper.append(heading, hintElement, rows, h("button", { type: "button", class: "add", onclick: () => addRow().focus() }, `Add ${isMap ? "an entry" : "an item"}`), error);
    read = () => {
      const filled = [...rows.children].filter((row) => row.inputs.some((input) => input.value.trim() !== ""));
      if (isMap) {
        if (!filled.length && !required) return undefined;
        return Object.fromEntries(filled.map((row) => [row.inputs[0].value.trim(), row.inputs[1].value.trim()]));
      }
      const values = filled.map((row) => row.inputs[0].value.trim());
      return values.length || required ? values : undefined;
    };
    wrapper.rowsErrorAt = (subPointer) => {
      const token = subPointer.slice(pointer.length + 1);
      const filled = [...rows.children].filter((row) => row.inputs.some((input) => input.value.trim() !== ""));
      const match = isMap ? filled.find((row) => row.inputs[0].value.trim() === token) : filled[Number(token)];
      return match ? match.error : null;
    };
  } else {
    const control = textControl(id, schema, initial, required);
    wrapper.append(heading, hintElement, control, error);
    read = () => {
      const text = control.value.trim();
      if (text === "") return undefined;
      if (schema.type === "number") return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
      if (schema.type === "integer") return /^-?\d+$/.test(text) ? Number(text) : NaN;
      return schema.enum || schema.type !== "string" ? text : control.value.trim();
    };
  }
  return { name, schema, required, pointer, element: wrapper, read, errorsAt };
}

function hint(schema) {
  if (schema.enum) return "";
  if (schema["x-format"] === "day-or-date-time") return "A date (2025-04-26) or a date-time with an offset";
  if (schema.type === "array") return schema.minItems ? `At least ${schema.minItems}; one a row` : "One a row; may be empty";
  if (schema.type === "object") return "Pairs of who and for which party";
  if (schema.pattern && /\[a-z0-9-\]/.test(schema.pattern)) return "A slug: lowercase letters, digits and hyphens";
  if (schema.pattern && /\[a-z0-9\]/.test(schema.pattern)) return "A party code: lowercase letters and digits";
  if (schema.type === "number") return schema.minimum !== undefined ? `A number, at least ${schema.minimum}` : "A number";
  if (schema.type === "integer") return schema.minimum !== undefined ? `A whole number, at least ${schema.minimum}` : "A whole number";
  return "";
}

/** A fieldset of an object's properties, under a JSON Pointer such as "/data". */
export function objectForm(legend, schema, pointer, initial = {}) {
  const fields = orderedFields(schema).map((f) => buildField(f.name, f.schema, f.required, `${pointer}/${f.name}`, initial[f.name]));
  const topError = h("p", { class: "field-error", hidden: true, id: newDomId("fieldset") });
  const element = h("fieldset", { dataset: { pointer } }, h("legend", {}, legend), topError, fields.map((f) => f.element));
  const read = () => {
    const value = {};
    for (const f of fields) {
      const v = f.read();
      if (v !== undefined) value[f.name] = v;
    }
    return value;
  };
  const validate = () => validateObject(schema, pointer, read());
  /** Where an error at `target` is shown: its field, a row of it, or the fieldset. */
  const slotFor = (target) => {
    if (pointer !== "" && target === pointer) return topError;
    const field = fields.find((f) => target === f.pointer || target.startsWith(`${f.pointer}/`));
    if (!field) return null;
    if (target !== field.pointer && field.element.rowsErrorAt) return field.element.rowsErrorAt(target) || field.errorsAt.get(field.pointer);
    return field.errorsAt.get(field.pointer);
  };
  return { element, read, validate, slotFor, fields };
}

/** Show errors at their slots; returns those that found none. */
export function showErrors(forms, errors) {
  const unplaced = [];
  for (const error of errors) {
    const slot = forms.map((form) => form.slotFor(error.pointer)).find(Boolean);
    if (!slot) {
      unplaced.push(error);
      continue;
    }
    slot.hidden = false;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${error.message}` : error.message;
    const field = slot.closest(".form-field, fieldset");
    field?.classList.add("invalid");
    field?.querySelectorAll("input, select, textarea").forEach((c) => c.setAttribute("aria-invalid", "true"));
  }
  return unplaced;
}

export function clearErrors(root) {
  root.querySelectorAll(".field-error").forEach((slot) => {
    slot.textContent = "";
    slot.hidden = true;
  });
  root.querySelectorAll(".invalid").forEach((field) => field.classList.remove("invalid"));
  root.querySelectorAll("[aria-invalid]").forEach((control) => control.removeAttribute("aria-invalid"));
}
