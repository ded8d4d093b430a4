// Alerts of the agency, live: the list fills from the API, then from the WebSocket; after a reconnect the
// page asks the API for what it missed. Selecting an alert shows the crop beside the hot-list record.
import { api } from "./api.js";
import { kindBadge, mayDispose, recordDisposition, showVerification } from "./alert-verify.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { timeElement, words } from "./format.js";
import { session } from "./session.js";

const alerts = new Map(); // id -> alert, newest first by insertion order of `order`
let order = [];
let selected = null;
let me = null;
const RECONNECT_MS = [1000, 2000, 5000, 10000];
// Catch-up asks again for the last two minutes it already holds: with several hub workers an alert created
// earlier may commit (and be announced) after a later one, and the alert relay announces late ones; those
// would fall before "the newest held" and be skipped. What comes twice is kept once, by id.
const CATCH_UP_OVERLAP_MS = 120000;

function remember(list, atTop) {
  const fresh = list.filter((a) => !alerts.has(a.id));
  for (const a of list) alerts.set(a.id, a);
  const ids = fresh.map((a) => a.id);
  order = atTop ? [...ids, ...order] : [...order, ...ids];
  order.sort(newestFirst);
}

function newestFirst(x, y) {
  const dt = Date.parse(alerts.get(y).created_at) - Date.parse(alerts.get(x).created_at);
  return dt || (x < y ? 1 : x > y ? -1 : 0);
}

function catchUpAnchor() {
  const newest = alerts.get(order[0]);
  if (!newest) return null;
  const edge = Date.parse(newest.created_at) - CATCH_UP_OVERLAP_MS;
  return order.find((id) => Date.parse(alerts.get(id).created_at) <= edge) || null;
}

function render() {
  const box = byId("alert-list");
  if (!order.length) return replaceChildren(box, notice("No alerts yet."));
  const rows = order.map((id) => alerts.get(id)).map((a) => el("tr", { class: a.id === selected ? "selected" : null, dataset: { alertId: a.id } },
    el("td", {}, el("strong", { class: "plate" }, a.plate), " ", a.state || ""),
    el("td", {}, kindBadge(a.match_kind)),
    el("td", {}, a.list_name || "—", el("br"), el("span", { class: "muted" }, a.record.category || "")),
    el("td", {}, timeElement(a.captured_at)),
    el("td", {}, el("span", { class: `badge status-${a.status}` }, words(a.status))),
    el("td", {}, el("button", { type: "button", class: "small", onclick: () => show(a.id) }, "Verify"))));
  replaceChildren(box, el("div", { class: "table-wrap" },
    table(["Plate", "Match", "List", "Read at", "Status", ""], rows, "Alerts")));
}

function show(id) {
  selected = id;
  const a = alerts.get(id);
  const detail = byId("alert-detail");
  detail.hidden = false;
  showVerification({ plate: byId("alert-read-plate"), crop: byId("alert-crop"), record: byId("alert-record") }, a);
  const form = byId("disposition-form");
  form.reset();
  form.hidden = !me.may_disposition || !mayDispose(a);
  replaceChildren(byId("disposition-result"));
  render();
  detail.focus();
}

async function dispose(event) {
  event.preventDefault();
  try {
    const a = await recordDisposition(api, selected, event.target);
    alerts.set(a.id, a);
    show(a.id);
    replaceChildren(byId("disposition-result"), notice(`Recorded: ${words(a.status)}.`, "ok"));
  } catch (error) {
    replaceChildren(byId("disposition-result"), notice(error.message, "error"));
  }
}

async function catchUp() {
  const anchor = catchUpAnchor();
  const url = anchor ? `/api/agency/alerts?after=${encodeURIComponent(anchor)}&limit=500` : "/api/agency/alerts";
  remember(await api(url), true);
  render();
}

function connect(attempt = 0) {
  const status = byId("alert-connection");
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/alerts`);
  ws.addEventListener("open", () => {
    attempt = 0;
    status.textContent = "live";
    status.className = "badge status-live";
    catchUp().catch((error) => console.warn("catch-up failed", error));
  });
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "alert") remember([message.alert], true);
    else if (message.type === "alert_update" && alerts.has(message.alert.id)) alerts.set(message.alert.id, message.alert);
    else return;
    render();
  });
  ws.addEventListener("close", () => {
    status.textContent = "reconnecting…";
    status.className = "badge status-offline";
    setTimeout(() => connect(attempt + 1), RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)]);
  });
}

me = await session;
me.may_disposition = ["supervisor", "analyst", "officer"].includes(me.role);
byId("disposition-form").addEventListener("submit", dispose);
try {
  remember(await api("/api/agency/alerts"), false);
  render();
} catch (error) {
  replaceChildren(byId("alert-list"), notice(`Alerts could not be loaded: ${error.message}`, "error"));
}
connect();
