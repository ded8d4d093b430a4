// The confirmation link's page: following the link changes nothing (mail scanners follow links); the button
// confirms with the id and token from the link.
import { api } from "./api.js";
import { byId } from "./dom.js";

const params = new URLSearchParams(location.search);
const button = byId("confirm-button");

function fail(message) {
  byId("confirm-error").textContent = message;
  byId("confirm-error").hidden = false;
}

async function confirmSignUp() {
  button.disabled = true;
  try {
    const done = await api("/api/public/subscriptions/confirm", {
      method: "POST", body: { s: params.get("s") || "", t: params.get("t") || "" } });
    byId("confirm-ask").hidden = true;
    byId("confirm-error").hidden = true;
    byId("confirm-text").textContent =
      `${done.agency_name} alerts will come to ${done.address_hint || "your address"} by ${done.channel}.`;
    byId("confirm-done").hidden = false;
  } catch (error) {
    button.disabled = false;
    fail(error.message);
  }
}

if (!params.get("s") || !params.get("t")) {
  byId("confirm-ask").hidden = true;
  fail("This page needs the whole link from your confirmation message. Open the link exactly as it was sent.");
}
button.addEventListener("click", confirmSignUp);
