// The unsubscribe link's page: shows whose alerts stop, and the button stops them (the same endpoint mail
// clients use for one-click unsubscribe).
import { api } from "./api.js";
import { byId } from "./dom.js";

const params = new URLSearchParams(location.search);
const query = `s=${encodeURIComponent(params.get("s") || "")}&t=${encodeURIComponent(params.get("t") || "")}`;

function fail(message) {
  byId("unsubscribe-status").hidden = true;
  byId("unsubscribe-error").textContent = message;
  byId("unsubscribe-error").hidden = false;
}

function done(view) {
  byId("unsubscribe-status").hidden = true;
  byId("unsubscribe-ask").hidden = true;
  byId("unsubscribe-text").textContent = `You will get no more ${view.agency_name} alerts, and your address has been erased.`;
  byId("unsubscribe-done").hidden = false;
}

async function show() {
  if (!params.get("s") || !params.get("t")) {
    fail("This page needs the whole unsubscribe link from one of our messages.");
    return;
  }
  try {
    const view = await api(`/api/public/unsubscribe?${query}`);
    if (view.status === "unsubscribed") return done(view);
    byId("unsubscribe-question").textContent =
      `Stop ${view.agency_name} alerts to ${view.address_hint || "this address"} (${view.channel})?`;
    byId("unsubscribe-status").hidden = true;
    byId("unsubscribe-ask").hidden = false;
  } catch (error) {
    fail(error.message);
  }
}

async function unsubscribe() {
  const button = byId("unsubscribe-button");
  button.disabled = true;
  try {
    done(await api(`/api/public/unsubscribe?${query}`, { method: "POST" }));
  } catch (error) {
    button.disabled = false;
    fail(error.message);
  }
}

byId("unsubscribe-button").addEventListener("click", unsubscribe);
show();
