// The command center's feed: plate hits, incidents, tips, cameras going offline or back, owners revoking
// or pausing sharing, emergencies; newest first, filtered by kind, each line a button that opens it.
import { el, notice, replaceChildren } from "./dom.js";
import { parseUtc, timeElement, words } from "./format.js";

const KEEP = 300;
const KIND_LABELS = { alert: "Plate hit", incident: "Incident", tip: "Tip", camera: "Camera", sharing: "Sharing",
  emergency: "Emergency" };
const FILTER_KINDS = { camera: new Set(["camera", "sharing", "emergency"]) };

// Escalated and not yet closed: the supervisors' attention is asked for.
const escalatedOpen = (r) => Boolean(r.escalated_at) && !["closed", "misread", "wrong_state", "resolved"].includes(r.status);

export function alertItem(a) {
  const handled = a.status !== "new" || a.acknowledged_at;
  return { key: `alert:${a.id}`, kind: "alert", at: a.created_at, ref: a, urgent: !handled || escalatedOpen(a),
    title: `${a.plate}${a.state ? ` ${a.state}` : ""} on ${a.list_name || "a hot list"}`,
    line: [words(a.match_kind), words(a.record.category), a.escalated_at ? "escalated" : null].filter(Boolean).join(" · "),
    status: a.status };
}

export function incidentItem(i) {
  return { key: `incident:${i.id}`, kind: "incident", at: i.created_at, ref: i, urgent: i.status === "new" || escalatedOpen(i),
    priority: i.priority, title: `P${i.priority} ${i.title}`,
    line: [words(i.category), words(i.source), i.address, i.assigned_name ? `assigned to ${i.assigned_name}` : null,
      i.escalated_at ? "escalated" : null].filter(Boolean).join(" · "),
    status: i.status };
}

export function tipItem(t) {
  return { key: `tip:${t.tip_id || t.id}`, kind: "tip", at: t.at || t.created_at, ref: t, urgent: true,
    title: "Tip from the public", line: `${t.excerpt}${t.has_media ? " (with a photo or clip)" : ""}`, status: t.status || "new" };
}

export function cameraItem(m, name) {
  const label = name || `camera ${m.camera_id.slice(0, 8)}`;
  return { key: `camera:${m.camera_id}:${m.at}`, kind: "camera", at: m.at, ref: m, urgent: !m.online,
    title: m.online ? `${label} is back online` : `${label} went offline`, line: m.reason ? words(m.reason) : "",
    status: m.online ? "online" : "offline" };
}

export function sharingItem(m, name) {
  const label = name || `camera ${m.camera_id.slice(0, 8)}`;
  const what = { revoked: "the owner revoked sharing", paused: "the owner paused sharing",
    policy: "the owner changed its sharing policy", tier: "the owner changed its tier" }[m.change] || words(m.change);
  return { key: `sharing:${m.camera_id}:${m.at}`, kind: "sharing", at: m.at, ref: m, urgent: m.change !== "policy",
    title: `${label}: ${what}`, line: "Live tiles it no longer allows have ended.", status: m.change };
}

export function emergencyItem(m) {
  return { key: `emergency:${m.emergency_id}:${m.change}`, kind: "emergency", at: m.at, ref: m,
    urgent: m.change === "declared", title: `Emergency ${words(m.change)}`,
    line: m.change === "declared" ? "Emergency-only cameras near it are open." : "Emergency-only cameras have closed.",
    status: m.change };
}

export class Feed {
  constructor(list, announcer, onOpen) {
    this.list = list;
    this.announcer = announcer;
    this.onOpen = onOpen;
    this.items = new Map();
    this.filter = "all";
    this.selected = null;
  }

  /** Say a new, urgent item out loud to screen readers (the list itself is redrawn too often to be live). */
  announce(item) {
    if (item.urgent && this.announcer) this.announcer.textContent = `${KIND_LABELS[item.kind]}: ${item.title}`;
  }

  put(item) {
    this.items.set(item.key, item);
    if (this.items.size > KEEP) {
      const oldest = [...this.items.values()].sort(byTime).slice(KEEP);
      for (const old of oldest) this.items.delete(old.key);
    }
  }

  setFilter(kind) {
    this.filter = kind;
    this.render();
  }

  visible() {
    const kinds = FILTER_KINDS[this.filter] || new Set([this.filter]);
    return [...this.items.values()].filter((i) => this.filter === "all" || kinds.has(i.kind)).sort(byTime);
  }

  /** Redraw the list, keeping the keyboard where it was (the button of the same item keeps the focus). */
  render() {
    const focused = document.activeElement?.closest?.(".feed-item")?.dataset.key;
    this.draw();
    if (focused) this.list.querySelector(`.feed-item[data-key="${CSS.escape(focused)}"] .feed-open`)?.focus();
  }

  draw() {
    const shown = this.visible();
    if (!shown.length) {
      replaceChildren(this.list, el("li", {}, notice("Nothing yet: new events appear here as they happen.")));
      return;
    }
    replaceChildren(this.list, shown.map((item) => el("li", { class: `feed-item kind-${item.kind}${item.urgent ? " urgent" : ""}${item.key === this.selected ? " selected" : ""}`,
      dataset: { key: item.key, kind: item.kind } },
    el("button", { type: "button", class: "feed-open", onclick: () => this.open(item.key),
      "aria-current": item.key === this.selected ? "true" : null },
    el("span", { class: `badge kind kind-${item.kind}${item.priority ? ` priority-${item.priority}` : ""}` }, KIND_LABELS[item.kind]),
    " ", el("strong", {}, item.title),
    el("span", { class: "feed-line muted" }, item.line),
    el("span", { class: "feed-meta" }, timeElement(item.at), " ",
      el("span", { class: `badge status-${item.status}` }, words(item.status)))))));
  }

  open(key) {
    this.selected = key;
    this.render();
    this.onOpen(this.items.get(key));
  }
}

function byTime(a, b) {
  return (parseUtc(b.at)?.getTime() || 0) - (parseUtc(a.at)?.getTime() || 0);
}
