// A public tip in the command center's detail panel: its text, place and photo or clip, and what the operator
// does with it: mark it reviewed, dismiss it, or promote it to an incident (which then reaches every screen).
import { api } from "./api.js";
import { byId, el, notice, replaceChildren } from "./dom.js";
import { clearErrors, showError, valueOf, whileBusy } from "./forms.js";
import { bytes, timeElement, words } from "./format.js";

const HANDLING_ROLES = new Set(["supervisor", "analyst", "officer"]);

function media(tip) {
  if (!tip.has_media) return null;
  const src = `/api/tips/${encodeURIComponent(tip.id)}/media`;
  const label = `${tip.media_type.startsWith("image/") ? "Photo" : "Clip"} sent with the tip`;
  const node = tip.media_type.startsWith("image/")
    ? el("img", { src, alt: label, class: "tip-media" })
    : el("video", { src, controls: true, preload: "metadata", class: "tip-media", "aria-label": label });
  return el("figure", {}, node, el("figcaption", { class: "muted" }, `${label} (${bytes(tip.media_bytes || 0)})`));
}

export class TipPanel {
  /** onChanged(tip) after an action; the promoted incident arrives over the socket like any other. */
  constructor(role, onChanged) {
    this.onChanged = onChanged;
    this.tip = null;
    this.panel = byId("tip-panel");
    this.may = HANDLING_ROLES.has(role);
    const categories = byId("incident-category").options;
    replaceChildren(byId("tip-category"), [...categories].map((o) => o.cloneNode(true)));
    byId("tip-review").addEventListener("click", () => this.act("review", undefined));
    byId("tip-dismiss").addEventListener("click", () => this.act("dismiss", {}));
    byId("tip-promote-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.promote(event.target);
    });
  }

  hide() {
    this.panel.hidden = true;
    this.tip = null;
  }

  async show(id, result) {
    this.result = result;
    let tip;
    try {
      tip = await api(`/api/tips/${encodeURIComponent(id)}`);
    } catch (error) {
      replaceChildren(result, notice(`The tip could not be loaded: ${error.message}`, "error"));
      return;
    }
    this.tip = tip;
    this.panel.hidden = false;
    const open = this.may && ["new", "reviewed"].includes(tip.status);
    for (const part of ["tip-review", "tip-dismiss", "tip-promote-form"]) byId(part).hidden = !open;
    byId("tip-review").hidden = !open || tip.status !== "new";
    const form = byId("tip-promote-form");
    form.reset();
    clearErrors(form);
    byId("tip-title").value = tip.excerpt.slice(0, 200);
    byId("tip-place").hidden = tip.lat !== null;
    replaceChildren(byId("tip-body"), el("p", { class: "tip-text" }, tip.text),
      el("dl", { class: "facts" }, el("dt", {}, "Received"), el("dd", {}, timeElement(tip.created_at)),
        el("dt", {}, "Where"), el("dd", {}, tip.location_text || (tip.lat !== null ? `${tip.lat.toFixed(5)}, ${tip.lon.toFixed(5)}` : "not given")),
        el("dt", {}, "Contact"), el("dd", {}, tip.contact || "anonymous"),
        el("dt", {}, "Status"), el("dd", {}, words(tip.status))),
      media(tip));
  }

  async act(action, body) {
    try {
      const tip = await api(`/api/tips/${encodeURIComponent(this.tip.id)}/${action}`, { method: "POST", body });
      this.onChanged(tip);
      replaceChildren(this.result, notice(`Done: ${words(action)}.`, "ok"));
      await this.show(tip.id, this.result);
    } catch (error) {
      replaceChildren(this.result, notice(error.message, "error"));
    }
  }

  async promote(form) {
    const place = this.tip.lat === null
      ? { lat: Number(valueOf(form, "lat")), lon: Number(valueOf(form, "lon")) } : {};
    const body = { title: valueOf(form, "title") || "", category: valueOf(form, "category"),
      priority: Number(valueOf(form, "priority")), ...place };
    try {
      const done = await whileBusy(form, () => api(`/api/tips/${encodeURIComponent(this.tip.id)}/promote`,
        { method: "POST", body }));
      this.onChanged(done.tip);
      replaceChildren(this.result, notice(`Promoted: incident "${done.incident_title}" opened.`, "ok"));
      await this.show(done.tip.id, this.result);
    } catch (error) {
      showError(form, error);
    }
  }
}
