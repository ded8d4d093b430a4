// Log-on after the use banner, first-time authenticator enrolment, then each role's start page.
import { api } from "./api.js";
import { byId } from "./dom.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";
import { homeFor, needsEnrolment, pageAllowed, session } from "./session.js";

const REASONS = {
  idle: "Your session was locked after 30 minutes without activity. Log on again to continue.",
  reauth: "Sessions last at most 12 hours. Log on again to continue.",
  ended: "Your session has ended (the account was locked or disabled, or you logged off elsewhere). Log on again.",
  enrol: "Finish setting up your authenticator app to continue.",
  signin: "Log on to continue.",
  unreachable: "The hub could not be reached. Check the connection and log on again.",
};
const NOTICES = {
  logged_off: "You have logged off.",
  signed_up: "Your account is ready. Log on to register your cameras.",
};

const params = new URLSearchParams(location.search);
const logonForm = byId("logon-form");
const enrolForm = byId("enrol-form");

function showMessages() {
  const reason = REASONS[params.get("reason")];
  const notice = NOTICES[params.get("notice")];
  if (reason) Object.assign(byId("login-reason"), { textContent: reason, hidden: false });
  if (notice) Object.assign(byId("login-notice"), { textContent: notice, hidden: false });
  if (params.get("email")) logonForm.elements.email.value = params.get("email");
}

/** ?next= is honoured only for a same-site page this role may open. */
function destination(role) {
  const next = params.get("next") || "";
  if (next.startsWith("/") && !next.startsWith("//")) {
    const path = next.split(/[?#]/)[0];
    if (pageAllowed(path, role)) return next;
  }
  return homeFor(role);
}

async function startEnrolment(role) {
  logonForm.hidden = true;
  enrolForm.hidden = false;
  enrolForm.dataset.role = role;
  try {
    const { secret, otpauth_uri: uri } = await api("/api/auth/totp/start", { method: "POST" });
    byId("totp-secret").textContent = secret;
    byId("totp-uri").textContent = uri;
    enrolForm.elements.code.focus();
  } catch (error) {
    showError(enrolForm, error);
  }
}

async function logOn(event) {
  event.preventDefault();
  clearErrors(logonForm);
  const body = {
    email: valueOf(logonForm, "email") || "",
    password: logonForm.elements.password.value,
    code: valueOf(logonForm, "code"),
    accept_banner: logonForm.elements.accept_banner.checked,
  };
  try {
    const result = await whileBusy(logonForm, () => api("/api/auth/logon", { method: "POST", body, keepOn401: true }));
    if (result.mfa_enrolment_needed) await startEnrolment(result.role);
    else location.assign(destination(result.role));
  } catch (error) {
    logonForm.elements.password.value = "";
    showError(logonForm, error, { banner_not_accepted: "accept_banner", bad_email: "email" });
  }
}

async function confirmEnrolment(event) {
  event.preventDefault();
  clearErrors(enrolForm);
  const code = valueOf(enrolForm, "code") || "";
  try {
    await whileBusy(enrolForm, () => api("/api/auth/totp/confirm", { method: "POST", body: { code } }));
    location.assign(destination(enrolForm.dataset.role));
  } catch (error) {
    showError(enrolForm, error, { bad_totp: "code" });
  }
}

logonForm.addEventListener("submit", logOn);
enrolForm.addEventListener("submit", confirmEnrolment);
showMessages();

// Sent here by another page to finish enrolment: the session exists, only the second factor is missing.
const me = await session;
if (me && params.get("enrol") === "1" && needsEnrolment(me)) await startEnrolment(me.role);
