// Building elements without innerHTML: every value from the API lands in the page as text.

/**
 * el("button", {class: "x", type: "button", onclick: fn, dataset: {id: 1}}, "text", childNode)
 * Attributes whose value is false, null or undefined are left out; true sets an empty attribute.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key === "text") {
      node.textContent = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

export function replaceChildren(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`the page has no element #${id}`);
  return node;
}

/** A line of status text for a list that is loading, empty or failed. */
export function notice(text, kind = "empty") {
  return el("p", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null }, text);
}

export function table(headings, rows, caption) {
  return el("table", { class: "data" },
    caption ? el("caption", { class: "visually-hidden" }, caption) : null,
    el("thead", {}, el("tr", {}, headings.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
}

/** A native <dialog> used for confirmations: resolves true when the user confirms. */
export function confirmAction(message, confirmLabel = "Confirm") {
  const dialog = byId("confirm-dialog");
  byId("confirm-message").textContent = message;
  byId("confirm-ok").textContent = confirmLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}
