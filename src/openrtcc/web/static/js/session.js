// Who is logged on: fills the shared header, steers people to the pages for their role, logs off.
import { api, reasonFor, sendToLogin } from "./api.js";
import { el, replaceChildren } from "./dom.js";

const HOME_BY_ROLE = { owner: "/portal", auditor: "/audit", admin: "/admin" };
const NEVER = new Promise(() => {});

export function homeFor(role) {
  return HOME_BY_ROLE[role] || "/map";
}

/** Whether the header offers this path to this role; used to honour ?next= only where it fits. */
export function pageAllowed(path, role) {
  const link = document.querySelector(`.site-nav a[href="${CSS.escape(path)}"]`);
  return Boolean(link && link.dataset.forRoles.split(" ").includes(role));
}

export function needsEnrolment(me) {
  return me.role !== "owner" && !me.totp_enrolled;
}

/** {me} when logged on, {me: null, reason} when not. */
async function loadMe() {
  try {
    return { me: await api("/api/auth/me", { keepOn401: true }) };
  } catch (error) {
    if (error.status === 401) return { me: null, reason: reasonFor(error) };
    console.warn("could not read the session", error);
    return { me: null, reason: "unreachable" };
  }
}

function fillHeader(me) {
  for (const link of document.querySelectorAll(".site-nav a")) {
    link.hidden = !me || !link.dataset.forRoles.split(" ").includes(me.role);
    if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
  }
  for (const link of document.querySelectorAll("[data-anonymous]")) link.hidden = Boolean(me);
  document.getElementById("logoff").hidden = !me;
  document.getElementById("session-user").textContent = me ? `${me.display_name} · ${me.role}` : "";
}

async function logOff() {
  try {
    await api("/api/auth/logoff", { method: "POST", keepOn401: true });
  } catch {
    // An already-ended session is logged off as far as the user is concerned.
  }
  location.assign("/login?notice=logged_off");
}

function refuse(me) {
  const main = document.getElementById("main");
  main.className = "page";
  replaceChildren(main,
    el("h1", {}, "Not available for your role"),
    el("p", {}, `You are logged on as ${me.display_name} (${me.role}); this page is for other roles.`),
    el("p", {}, el("a", { href: homeFor(me.role), class: "button" }, "Go to your start page")));
}

async function start() {
  const body = document.body;
  const roles = body.dataset.roles.split(" ").filter(Boolean);
  const required = body.dataset.needsSession === "1";
  document.getElementById("logoff").addEventListener("click", logOff);
  const { me, reason } = await loadMe();
  fillHeader(me);
  if (!required) return me;
  if (!me) {
    sendToLogin(reason);
    return NEVER;
  }
  if (needsEnrolment(me)) {
    location.assign("/login?enrol=1");
    return NEVER;
  }
  if (roles.length && !roles.includes(me.role)) {
    refuse(me);
    return NEVER;
  }
  return me;
}

/** Resolves to the logged-on user (null on public pages); never resolves while leaving the page. */
export const session = start();
