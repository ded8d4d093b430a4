// The agency's dissemination: subscribers, the bulletin composer with a per-audience preview, the delivery
// log and the dead letters. The API decides who may do what; this page only shows what it answers.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { timeElement, words } from "./format.js";

const AUDIENCE = { police_unit: "Police unit", public: "Public", private_security: "Security vendor",
  partner_business: "Partner business" };
let logBefore = null;

function numberOrNull(value) {
  return value === "" ? null : Number(value);
}

async function loadCounts() {
  try {
    const c = await api("/api/dissemination/deliveries/counts");
    byId("delivery-counts").textContent = Object.entries(c).map(([k, v]) => `${words(k)}: ${v}`).join(" · ");
  } catch (error) {
    byId("delivery-counts").textContent = `Counts unavailable: ${error.message}`;
  }
}

// --- bulletins ---
function bulletinBody() {
  const f = byId("bulletin-form").elements;
  return { title: f.title.value, text: f.text.value, category: f.category.value, priority: Number(f.priority.value),
    audiences: [...f.audiences].filter((c) => c.checked).map((c) => c.value),
    lat: numberOrNull(f.lat.value), lon: numberOrNull(f.lon.value), radius_m: Number(f.radius_m.value || 0) };
}

function previewCard(audience, p) {
  return el("article", { class: "card", "data-audience": audience },
    el("h3", {}, `${AUDIENCE[audience]}: ${p.subscribers} subscriber${p.subscribers === 1 ? "" : "s"} now`),
    el("p", {}, el("strong", {}, p.subject)),
    el("pre", { class: "preview-text" }, p.text));
}

async function previewBulletin() {
  const out = byId("bulletin-preview");
  try {
    const preview = await api("/api/dissemination/bulletins/preview", { method: "POST", body: bulletinBody() });
    replaceChildren(out, Object.entries(preview).map(([a, p]) => previewCard(a, p)));
  } catch (error) {
    replaceChildren(out, notice(`Cannot preview: ${error.message}`, "error"));
  }
}

async function sendBulletin(event) {
  event.preventDefault();
  const out = byId("bulletin-result");
  try {
    const r = await api("/api/dissemination/bulletins", { method: "POST", body: bulletinBody() });
    const total = Object.values(r.deliveries).reduce((a, b) => a + b, 0);
    replaceChildren(out, notice(`Bulletin sent to ${total} subscriber${total === 1 ? "" : "s"}.`, "success"));
    event.target.reset();
    replaceChildren(byId("bulletin-preview"));
    await Promise.all([loadLog(true), loadCounts()]);
  } catch (error) {
    replaceChildren(out, notice(`Refused, nothing sent: ${error.message}`, "error"));
  }
}

// --- subscribers ---
function subscriberRow(s) {
  const toggle = s.status === "disabled" ? "active" : "disabled";
  const canToggle = s.status === "active" || s.status === "disabled";
  return el("tr", { "data-subscriber": s.id },
    el("td", {}, s.name || "–"), el("td", {}, AUDIENCE[s.audience] || s.audience), el("td", {}, s.channel),
    el("td", {}, s.address || "(screen)"), el("td", {}, s.categories.length ? s.categories.join(", ") : "all"),
    el("td", {}, s.geofence ? (s.geofence.type === "Circle" ? `circle ${Math.round(s.geofence.radius_m)} m` : "polygon") : "anywhere"),
    el("td", {}, words(s.status)),
    el("td", {},
      canToggle ? el("button", { type: "button", onclick: () => setStatus(s.id, toggle) },
        toggle === "disabled" ? "Disable" : "Enable") : null,
      ["webhook", "websocket"].includes(s.channel) && s.audience !== "public"
        ? el("button", { type: "button", onclick: () => rotate(s.id) }, "New secret") : null));
}

async function loadSubscribers() {
  const list = byId("subscriber-list");
  const audience = byId("subscriber-filter").value;
  try {
    const subs = await api(`/api/dissemination/subscribers${audience ? `?audience=${audience}` : ""}`);
    replaceChildren(list, subs.length ? el("div", { class: "table-wrap" }, table(
      ["Name", "Audience", "Channel", "Address", "Categories", "Area", "Status", ""], subs.map(subscriberRow),
      "Subscribers")) : notice("No subscribers yet."));
  } catch (error) {
    replaceChildren(list, notice(`Subscribers could not be loaded: ${error.message}`, "error"));
  }
}

async function setStatus(id, status) {
  const out = byId("subscriber-action-result");
  try {
    await api(`/api/dissemination/subscribers/${encodeURIComponent(id)}`, { method: "PATCH", body: { status } });
    replaceChildren(out, notice(`Subscriber ${status === "disabled" ? "disabled" : "enabled"}.`, "success"));
    await loadSubscribers();
  } catch (error) {
    replaceChildren(out, notice(`Refused: ${error.message}`, "error"));
  }
}

function secretNotice(secret, what) {
  return el("div", { class: "notice notice-success" },
    el("p", {}, `${what} shown this once; the hub keeps no copy it can show again:`),
    el("code", { class: "secret" }, secret));
}

async function rotate(id) {
  const out = byId("subscriber-action-result");
  try {
    const r = await api(`/api/dissemination/subscribers/${encodeURIComponent(id)}/secret`, { method: "POST" });
    replaceChildren(out, secretNotice(r.secret, "The new secret is"));
  } catch (error) {
    replaceChildren(out, notice(`Refused: ${error.message}`, "error"));
  }
}

function geofenceOf(f) {
  if (f.polygon.value.trim()) return JSON.parse(f.polygon.value);
  if (f.lat.value === "" || f.lon.value === "") return null;
  return { type: "Circle", center: [Number(f.lon.value), Number(f.lat.value)], radius_m: Number(f.radius_m.value || 500) };
}

async function addSubscriber(event) {
  event.preventDefault();
  const f = event.target.elements;
  const out = byId("subscriber-result");
  let geofence;
  try {
    geofence = geofenceOf(f);
  } catch {
    replaceChildren(out, notice("The polygon is not valid JSON.", "error"));
    return;
  }
  const body = { audience: f.audience.value, name: f.name.value, channel: f.channel.value, address: f.address.value,
    categories: f.categories.value.split(",").map((c) => c.trim()).filter(Boolean), geofence };
  try {
    const s = await api("/api/dissemination/subscribers", { method: "POST", body });
    replaceChildren(out, s.secret
      ? secretNotice(s.secret, s.channel === "webhook" ? "The signing secret is" : "The screen's access token is")
      : notice(`${s.name} added.`, "success"));
    event.target.reset();
    await loadSubscribers();
  } catch (error) {
    replaceChildren(out, notice(`Refused, nothing added: ${error.message}`, "error"));
  }
}

// --- the delivery log and dead letters ---
function logRow(d, selectable) {
  return el("tr", { "data-delivery": String(d.id) },
    selectable ? el("td", {}, el("input", { type: "checkbox", value: String(d.id), "aria-label": `Select delivery ${d.id}` })) : null,
    el("td", {}, timeElement(d.created_at)), el("td", {}, `${d.kind}${d.change !== "new" ? ` (${d.change})` : ""}`),
    el("td", {}, d.title || d.category), el("td", {}, d.subscriber_name || d.address),
    el("td", {}, AUDIENCE[d.audience] || d.audience), el("td", {}, d.channel), el("td", {}, words(d.status)),
    el("td", {}, String(d.attempts)), el("td", {}, d.last_error || ""));
}

const LOG_HEADINGS = ["Created", "Notice", "Title", "Subscriber", "Audience", "Channel", "Status", "Attempts", "Last error"];

async function loadLog(fresh) {
  const box = byId("delivery-log");
  if (fresh) logBefore = null;
  const status = byId("log-filter").value;
  const params = new URLSearchParams({ limit: "100" });
  if (status) params.set("status", status);
  if (logBefore) params.set("before", String(logBefore));
  try {
    const rows = await api(`/api/dissemination/deliveries?${params}`);
    logBefore = rows.length ? rows[rows.length - 1].id : logBefore;
    byId("log-older").hidden = rows.length < 100;
    replaceChildren(box, rows.length ? el("div", { class: "table-wrap" },
      table(LOG_HEADINGS, rows.map((d) => logRow(d, false)), "Delivery log")) : notice("No deliveries."));
  } catch (error) {
    replaceChildren(box, notice(`The log could not be loaded: ${error.message}`, "error"));
  }
}

async function loadDead() {
  const box = byId("dead-letters");
  try {
    const rows = await api("/api/dissemination/dead-letters");
    replaceChildren(box, rows.length ? el("div", { class: "table-wrap" },
      table(["", ...LOG_HEADINGS], rows.map((d) => logRow(d, true)), "Dead letters")) : notice("No dead letters."));
  } catch (error) {
    replaceChildren(box, notice(`Dead letters could not be loaded: ${error.message}`, "error"));
  }
}

async function actOnDead(action) {
  const ids = [...byId("dead-letters").querySelectorAll("input[type=checkbox]:checked")].map((c) => Number(c.value));
  const out = byId("dead-result");
  if (!ids.length) {
    replaceChildren(out, notice("Select one or more dead letters first.", "error"));
    return;
  }
  try {
    const r = await api(`/api/dissemination/dead-letters/${action}`, { method: "POST", body: { ids } });
    replaceChildren(out, notice(action === "retry" ? `${r.retried} queued to be sent again.` : `${r.discarded} discarded.`, "success"));
    await Promise.all([loadDead(), loadLog(true), loadCounts()]);
  } catch (error) {
    replaceChildren(out, notice(`Refused: ${error.message}`, "error"));
  }
}

byId("bulletin-preview-button").addEventListener("click", previewBulletin);
byId("bulletin-form").addEventListener("submit", sendBulletin);
byId("subscriber-form").addEventListener("submit", addSubscriber);
byId("subscriber-filter").addEventListener("change", loadSubscribers);
byId("log-filter").addEventListener("change", () => loadLog(true));
byId("log-older").addEventListener("click", () => loadLog(false));
byId("dead-retry").addEventListener("click", () => actOnDead("retry"));
byId("dead-discard").addEventListener("click", () => actOnDead("discard"));
await Promise.all([loadCounts(), loadSubscribers(), loadLog(true), loadDead()]);
