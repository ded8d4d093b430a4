// Sharing between agencies, for the agency's administrator: grants given (make, revoke) and received,
// and hot lists shared in (opt in, opt out). The API decides; this page only shows and asks.
import { api } from "./api.js";
import { byId, confirmAction, el, notice, replaceChildren, table } from "./dom.js";
import { timeElement } from "./format.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";

const KINDS = { plate_reads: "Plate reads", camera_locations: "Camera locations", hot_lists: "Hot lists" };
const DAY = 24 * 3600 * 1000;
const form = byId("grant-form");
let agencies = [];

function statusBadge(status) {
  const cls = { live: "status-active", expired: "no", revoked: "answer-pending" }[status] || "no";
  return el("span", { class: `badge ${cls}` }, status);
}

function grantRow(g, withRevoke) {
  const other = g.direction === "given" ? g.to_agency : g.from_agency;
  return el("tr", { "data-grant": g.id },
    el("td", {}, el("strong", {}, other.name), " ", el("span", { class: "muted" }, other.slug)),
    el("td", {}, KINDS[g.data_kind] || g.data_kind, g.federal_one_to_one ? " (federal one-to-one)" : ""),
    el("td", {}, g.purposes.join(", ")),
    el("td", {}, timeElement(g.expires_at)),
    el("td", {}, statusBadge(g.status)),
    el("td", {}, g.note || "–"),
    withRevoke ? el("td", {}, g.status === "live"
      ? el("button", { type: "button", class: "secondary", onclick: () => revoke(g) }, "Revoke") : "") : null);
}

async function loadGrants() {
  try {
    const grants = await api("/api/sharing/grants");
    const given = grants.filter((g) => g.direction === "given");
    const received = grants.filter((g) => g.direction === "received");
    replaceChildren(byId("grants-given"), given.length
      ? el("div", { class: "table-wrap" }, table(["Recipient", "Data", "Purposes", "Until", "Status", "Note", ""],
        given.map((g) => grantRow(g, true)), "Grants given"))
      : notice("Your agency shares nothing with other agencies."));
    replaceChildren(byId("grants-received"), received.length
      ? el("div", { class: "table-wrap" }, table(["From", "Data", "Purposes", "Until", "Status", "Note"],
        received.map((g) => grantRow(g, false)), "Grants received"))
      : notice("No agency shares data with yours."));
  } catch (error) {
    replaceChildren(byId("grants-given"), notice(`Grants could not be loaded: ${error.message}`, "error"));
  }
}

async function revoke(g) {
  const ok = await confirmAction(`End the grant of ${KINDS[g.data_kind]} to ${g.to_agency.name} now?`, "Revoke");
  if (!ok) return;
  try {
    await api(`/api/sharing/grants/${encodeURIComponent(g.id)}/revoke`, { method: "POST" });
    replaceChildren(byId("grant-result"), notice(`The grant to ${g.to_agency.name} is revoked.`, "success"));
  } catch (error) {
    replaceChildren(byId("grant-result"), notice(`Refused: ${error.message}`, "error"));
  }
  await Promise.all([loadGrants(), loadShared()]);
}

function selectedAgency() {
  return agencies.find((a) => a.slug === form.elements.to_agency.value);
}

function followAgency() {
  const federal = selectedAgency()?.kind === "federal";
  byId("federal-field").hidden = !federal;
  byId("expiry-hint").textContent = federal ? "At most 90 days ahead (federal recipient)." : "At most 365 days ahead.";
  form.elements.expires_at.max = new Date(Date.now() + (federal ? 90 : 365) * DAY).toISOString().slice(0, 10);
}

async function loadForm() {
  const [others, purposes] = await Promise.all([api("/api/sharing/agencies"), api("/api/sharing/purposes")]);
  agencies = others;
  replaceChildren(form.elements.to_agency, ...others.map((a) =>
    el("option", { value: a.slug }, `${a.name} (${a.kind})`)));
  replaceChildren(byId("grant-purposes"), ...purposes.map((p) => el("label", { class: p.prohibited ? "muted" : null },
    el("input", { type: "checkbox", name: "purpose", value: p.code, disabled: p.prohibited }), " ", p.label,
    p.prohibited ? " (prohibited by your agency)" : "")));
  const month = new Date(Date.now() + 30 * DAY);
  form.elements.expires_at.min = new Date(Date.now() + DAY).toISOString().slice(0, 10);
  form.elements.expires_at.value = month.toISOString().slice(0, 10);
  followAgency();
}

async function grant(event) {
  event.preventDefault();
  clearErrors(form);
  const day = valueOf(form, "expires_at");
  const body = {
    to_agency: valueOf(form, "to_agency"), data_kind: valueOf(form, "data_kind"),
    purposes: [...form.querySelectorAll("input[name=purpose]:checked")].map((i) => i.value),
    // The end of the chosen day in UTC: the grant covers the whole of its last day.
    expires_at: day ? `${day}T23:59:59Z` : null,
    federal_one_to_one: selectedAgency()?.kind === "federal" && valueOf(form, "federal_one_to_one"),
    note: valueOf(form, "note"),
  };
  await whileBusy(form, async () => {
    try {
      const g = await api("/api/sharing/grants", { method: "POST", body });
      replaceChildren(byId("grant-result"), notice(`Granted: ${g.to_agency.name} sees ${KINDS[g.data_kind]} for ` +
        `${g.purposes.join(", ")} until ${new Date(g.expires_at).toLocaleDateString()}.`, "success"));
      await Promise.all([loadGrants(), loadShared()]);
    } catch (error) {
      showError(form, error, { purposes_required: "purposes", unknown_purpose: "purposes",
        purpose_prohibited: "purposes", hotlist_purpose_required: "purposes", expiry_too_long: "expires_at",
        bad_expiry: "expires_at", federal_acknowledgement_required: "federal_one_to_one" });
    }
  });
}

function sharedRow(l) {
  const state = l.applies ? el("span", { class: "badge status-active" }, "Applies")
    : l.opted_in_at ? el("span", { class: "badge answer-pending" }, "Grant ended")
      : el("span", { class: "badge no" }, "Not applied");
  const action = l.opted_in_at
    ? el("button", { type: "button", class: "secondary", onclick: () => optOut(l) }, "Opt out")
    : el("button", { type: "button", onclick: () => optIn(l) }, "Opt in");
  return el("tr", { "data-list": l.list_id },
    el("td", {}, el("strong", {}, l.name), l.stale ? " (stale feed)" : ""),
    el("td", {}, l.source.name),
    el("td", {}, String(l.entry_count)),
    el("td", {}, l.refreshed_at ? timeElement(l.refreshed_at) : "never"),
    el("td", {}, l.grant_expires_at ? timeElement(l.grant_expires_at) : "–"),
    el("td", {}, state), el("td", {}, action));
}

async function loadShared() {
  try {
    const lists = await api("/api/sharing/hotlists");
    replaceChildren(byId("shared-lists"), lists.length
      ? el("div", { class: "table-wrap" }, table(["List", "Kept by", "Entries", "Refreshed", "Grant until", "State",
        ""], lists.map(sharedRow), "Hot lists shared in"))
      : notice("No agency shares a hot list with yours."));
  } catch (error) {
    replaceChildren(byId("shared-lists"), notice(`Lists could not be loaded: ${error.message}`, "error"));
  }
}

async function optIn(l) {
  const out = byId("shared-result");
  try {
    const r = await api(`/api/sharing/hotlists/${encodeURIComponent(l.list_id)}/opt-in`, { method: "POST" });
    replaceChildren(out, notice(`${l.name} now applies to your reads; the back-check read ${r.reads_checked} ` +
      `stored reads and raised ${r.alerts} alerts.`, "success"));
  } catch (error) {
    replaceChildren(out, notice(`Refused: ${error.message}`, "error"));
  }
  await loadShared();
}

async function optOut(l) {
  if (!await confirmAction(`Stop applying ${l.name} to your agency's reads?`, "Opt out")) return;
  const out = byId("shared-result");
  try {
    await api(`/api/sharing/hotlists/${encodeURIComponent(l.list_id)}/opt-out`, { method: "POST" });
    replaceChildren(out, notice(`${l.name} no longer applies to your reads.`, "success"));
  } catch (error) {
    replaceChildren(out, notice(`Refused: ${error.message}`, "error"));
  }
  await loadShared();
}

form.addEventListener("submit", grant);
form.elements.to_agency.addEventListener("change", followAgency);
try {
  await loadForm();
} catch (error) {
  replaceChildren(byId("grant-result"), notice(`The form could not be prepared: ${error.message}`, "error"));
}
await Promise.all([loadGrants(), loadShared()]);
