// Legal holds, reads locked into cases, and the retention purges with their deletion reports.
import { api } from "./api.js";
import { byId, confirmAction, el, notice, replaceChildren, table } from "./dom.js";
import { clearErrors, showError, whileBusy } from "./forms.js";
import { timeElement, words } from "./format.js";
import { session } from "./session.js";

const HOLDERS = ["supervisor", "analyst"];
const REPORT_READERS = ["admin", "auditor"];
const holdForm = byId("retention-hold-form");
const caseForm = byId("retention-case-form");
const CODE_FIELDS = { bad_case_number: "case_number", bad_reason: "reason", already_held: "case_number",
  no_legal_hold: "case_number", no_read: "read_id", already_locked: "read_id" };
const OUTCOMES = { done: "Done", refused: "Refused", failed: "Failed", running: "Running" };
const TRIGGERS = { schedule: "Schedule", cli: "Command line", api: "By hand" };
let me = null;

function holdRow(h) {
  const button = HOLDERS.includes(me.role) && h.active
    ? el("button", { type: "button", class: "secondary", onclick: () => releaseHold(h) }, "Release") : null;
  return el("tr", {}, el("td", {}, h.case_number), el("td", {}, h.reason), el("td", {}, timeElement(h.created_at)),
    el("td", {}, h.active ? "Active" : el("span", {}, "Released ", timeElement(h.released_at))), el("td", {}, button));
}

async function loadHolds() {
  const holder = byId("retention-holds");
  try {
    const holds = await api("/api/retention/holds");
    replaceChildren(holder, holds.length
      ? table(["Case", "Reason", "Placed", "State", ""], holds.map(holdRow), "Legal holds")
      : notice("No legal holds: every case's evidence expires with the agency's retention."));
  } catch (error) {
    replaceChildren(holder, notice(`Legal holds could not be loaded: ${error.message}`, "error"));
  }
}

async function releaseHold(h) {
  if (!await confirmAction(`Release the legal hold on case ${h.case_number}? Its evidence past retention is deleted by the next purge.`, "Release")) return;
  try {
    await api(`/api/retention/holds/${encodeURIComponent(h.id)}/release`, { method: "POST" });
  } catch (error) {
    replaceChildren(byId("retention-holds"), notice(error.message, "error"));
    return;
  }
  await loadHolds();
}

async function placeHold(event) {
  event.preventDefault();
  clearErrors(holdForm);
  await whileBusy(holdForm, async () => {
    try {
      await api("/api/retention/holds", { method: "POST", body: {
        case_number: holdForm.elements.case_number.value.trim(), reason: holdForm.elements.reason.value } });
      holdForm.reset();
      await loadHolds();
    } catch (error) {
      showError(holdForm, error, CODE_FIELDS);
    }
  });
}

function caseNumber() {
  return encodeURIComponent(caseForm.elements.case_number.value.trim() || "-");
}

async function showCaseReads(event) {
  event?.preventDefault();
  clearErrors(caseForm);
  try {
    const reads = await api(`/api/retention/cases/${caseNumber()}/reads`);
    replaceChildren(byId("retention-case-reads"), reads.length
      ? table(["Plate", "State", "Captured", "Alerts", "Locked"], reads.map((r) => el("tr", {},
        el("td", {}, r.plate || "—"), el("td", {}, r.state || "—"), el("td", {}, timeElement(r.captured_at)),
        el("td", {}, String(r.alerts.length)), el("td", {}, timeElement(r.locked_at)))), "Locked reads")
      : notice("No reads are locked into this case."));
  } catch (error) {
    showError(caseForm, error, CODE_FIELDS);
  }
}

async function lockRead() {
  clearErrors(caseForm);
  try {
    await api(`/api/retention/cases/${caseNumber()}/reads`, { method: "POST",
      body: { read_id: caseForm.elements.read_id.value.trim() } });
    caseForm.elements.read_id.value = "";
    await showCaseReads();
  } catch (error) {
    showError(caseForm, error, CODE_FIELDS);
  }
}

function counts(map) {
  const parts = Object.entries(map || {}).filter(([, n]) => n).map(([k, n]) => `${words(k)} ${n}`);
  return parts.length ? parts.join(", ") : "none";
}

function runRow(run) {
  const a = run.report?.agencies?.[0];
  const files = a ? `${a.files_deleted} expired, ${a.orphan_files_deleted} orphaned; ${a.missing_files} rows missing their file` : "—";
  return el("tr", {}, el("td", {}, timeElement(run.started_at)), el("td", {}, TRIGGERS[run.trigger] || words(run.trigger)),
    el("td", {}, OUTCOMES[run.outcome] || words(run.outcome), run.reason ? el("p", { class: "muted" }, run.reason) : null),
    el("td", {}, a ? `${counts(a.deleted)} (cutoff ` : "—", a ? timeElement(a.cutoff) : null, a ? ")" : null),
    el("td", {}, a ? counts(a.kept_by_holds) : "—"), el("td", {}, files));
}

async function loadRuns() {
  const holder = byId("retention-runs");
  try {
    const runs = await api("/api/retention/runs?limit=20");
    replaceChildren(holder, runs.length
      ? table(["Started", "By", "Outcome", "Deleted", "Kept by holds", "Files"], runs.map(runRow), "Purges")
      : notice("No purge has run yet."));
    byId("retention-accept").hidden = !(me.role === "admin" && runs[0]?.outcome === "refused");
  } catch (error) {
    replaceChildren(holder, notice(`Purges could not be loaded: ${error.message}`, "error"));
  }
}

async function runPurge(options) {
  const status = byId("retention-run-status");
  status.textContent = options.dry_run ? "Counting…" : "Purging…";
  try {
    const run = await api("/api/retention/run", { method: "POST", body: options });
    const a = run.report?.agencies?.[0];
    status.textContent = `${options.dry_run ? "Dry run: " : ""}${OUTCOMES[run.outcome] || words(run.outcome)}${run.reason ? `: ${run.reason}` : ""}${a ? ` — ${options.dry_run ? "would delete" : "deleted"} ${counts(a.deleted)}` : ""}`;
  } catch (error) {
    status.textContent = error.message;
  }
  await loadRuns();
}

async function start() {
  me = await session;
  await loadHolds();
  if (HOLDERS.includes(me.role)) {
    holdForm.hidden = false;
    holdForm.addEventListener("submit", placeHold);
    byId("lock-field").hidden = false;
    byId("lock-button").hidden = false;
    byId("lock-button").addEventListener("click", lockRead);
  }
  caseForm.addEventListener("submit", showCaseReads);
  if (!REPORT_READERS.includes(me.role)) return;
  byId("retention-runs-block").hidden = false;
  if (me.role === "admin") {
    byId("retention-run-actions").hidden = false;
    byId("retention-run").addEventListener("click", () => runPurge({}));
    byId("retention-dry-run").addEventListener("click", () => runPurge({ dry_run: true }));
    byId("retention-accept").addEventListener("click", async () => {
      if (await confirmAction("Run the purge although the clock check failed? Only do this once you know the hub's clock is right: a clock set ahead deletes data early. This is audited.", "Run anyway")) {
        await runPurge({ accept_clock_jump: true });
      }
    });
  }
  await loadRuns();
}

await start();
