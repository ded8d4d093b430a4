// Agency administration: the users, new accounts, and unlocking locked accounts.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren, table } from "./dom.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";
import { timeElement } from "./format.js";
import { session } from "./session.js";

const list = byId("user-list");
const form = byId("user-form");

function flag(on, yes, no, badClass = "no") {
  return el("span", { class: `badge ${on ? "yes" : badClass}` }, on ? yes : no);
}

function stateOf(user) {
  if (user.disabled) return el("span", { class: "badge locked" }, "Disabled");
  if (user.locked) return el("span", { class: "badge locked" }, "Locked");
  return el("span", { class: "badge yes" }, "Active");
}

function userRow(user, me) {
  const blocked = user.locked || user.disabled;
  return el("tr", { dataset: { userId: user.id } },
    el("td", {}, el("strong", {}, user.display_name), user.id === me.id ? " (you)" : "", el("br"),
      el("span", { class: "muted" }, user.email)),
    el("td", {}, user.role),
    el("td", {}, flag(user.totp_enrolled, "Enrolled", "Not yet")),
    el("td", {}, stateOf(user)),
    el("td", {}, user.last_login_at ? timeElement(user.last_login_at) : "Never"),
    el("td", {}, blocked ? el("button", { type: "button", class: "small", onclick: () => unlock(user) }, "Unlock") : null));
}

async function loadUsers() {
  try {
    const [users, me] = await Promise.all([api("/api/agency/users"), session]);
    replaceChildren(list, users.length
      ? el("div", { class: "table-wrap" }, table(["User", "Role", "Authenticator", "State", "Last log-on", ""],
        users.map((u) => userRow(u, me)), "Users of the agency"))
      : notice("No users yet."));
  } catch (error) {
    replaceChildren(list, notice(`Users could not be loaded: ${error.message}`, "error"));
  }
}

async function unlock(user) {
  try {
    await api(`/api/agency/users/${encodeURIComponent(user.id)}/unlock`, { method: "POST" });
    byId("admin-status").textContent = `${user.display_name} was unlocked.`;
  } catch (error) {
    byId("admin-status").textContent = error.message;
    window.alert(`Could not unlock: ${error.message}`);
  }
  await loadUsers();
}

async function addUser(event) {
  event.preventDefault();
  clearErrors(form);
  const ok = form.querySelector(".form-ok");
  ok.hidden = true;
  const body = {
    display_name: valueOf(form, "display_name") || "",
    email: valueOf(form, "email") || "",
    role: valueOf(form, "role"),
    password: form.elements.password.value,
  };
  try {
    const user = await whileBusy(form, () => api("/api/agency/users", { method: "POST", body }));
    form.reset();
    Object.assign(ok, { textContent: `${user.display_name} (${user.role}) was added.`, hidden: false });
    await loadUsers();
  } catch (error) {
    showError(form, error, { weak_password: "password", bad_email: "email", email_taken: "email" });
  }
}

await session;
form.addEventListener("submit", addUser);
await loadUsers();
