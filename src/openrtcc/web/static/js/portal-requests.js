// Footage requests addressed to the owner (approve, decline, upload a clip) and notifications.
import { api } from "./api.js";
import { byId, el, notice, replaceChildren } from "./dom.js";
import { bytes, timeElement, words } from "./format.js";

const CAN_ANSWER = new Set(["pending", "approved"]);
const CAN_UPLOAD = new Set(["pending", "approved", "uploaded"]);

function groupByRequest(rows) {
  const groups = new Map();
  for (const row of rows) {
    if (!groups.has(row.request_id)) groups.set(row.request_id, []);
    groups.get(row.request_id).push(row);
  }
  return [...groups.values()];
}

export async function loadRequests(container) {
  try {
    const rows = await api("/api/owner/requests");
    const pending = rows.filter((r) => r.answer === "pending").length;
    Object.assign(byId("pending-count"), { textContent: String(pending), hidden: pending === 0 });
    replaceChildren(container, rows.length
      ? groupByRequest(rows).map(requestCard)
      : notice("No agency has asked you for footage."));
  } catch (error) {
    replaceChildren(container, notice(`Requests could not be loaded: ${error.message}`, "error"));
  }
}

function requestCard(rows) {
  const r = rows[0];
  return el("article", { class: "card request", id: `request-${r.request_id}` },
    el("h3", {}, `${r.agency}: case ${r.case_number}`),
    el("dl", { class: "facts" },
      el("dt", {}, "Purpose"), el("dd", {}, r.purpose),
      el("dt", {}, "Footage from"), el("dd", {}, timeElement(r.window_start), " to ", timeElement(r.window_end)),
      el("dt", {}, "Asked"), el("dd", {}, timeElement(r.created_at))),
    rows.map(cameraAnswer));
}

function cameraAnswer(row) {
  const status = el("span", { class: `badge answer-${row.answer}` }, words(row.answer));
  const box = el("div", { class: "answer-box" },
    el("p", {}, el("strong", {}, row.camera_name), " ", status),
    row.note ? el("p", { class: "muted" }, `Your note: ${row.note}`) : null);
  if (CAN_ANSWER.has(row.answer)) box.append(answerForm(row, status));
  if (CAN_UPLOAD.has(row.answer)) box.append(uploadForm(row, status));
  return box;
}

function answerForm(row, status) {
  const id = `note-${row.request_id}-${row.camera_id}`;
  const result = el("p", { class: "form-error", role: "alert", hidden: true });
  const note = el("textarea", { id, rows: 2, maxlength: 1000 });
  const send = (answer) => async (event) => {
    event.target.disabled = true;
    try {
      const done = await api(`/api/owner/requests/${encodeURIComponent(row.request_id)}/cameras/${encodeURIComponent(row.camera_id)}/answer`,
        { method: "POST", body: { answer, note: note.value.trim() || null } });
      status.textContent = words(done.answer);
      status.className = `badge answer-${done.answer}`;
      form.replaceWith(el("p", { class: "form-ok", role: "status" }, `You ${done.answer} this request.`));
    } catch (error) {
      Object.assign(result, { textContent: error.message, hidden: false });
      event.target.disabled = false;
    }
  };
  const form = el("div", { class: "stack tight" },
    el("label", { for: id }, "Note to the agency (optional)"), note, result,
    el("div", { class: "actions" },
      row.answer === "pending" ? el("button", { type: "button", class: "small primary", onclick: send("approved") }, "Approve") : null,
      el("button", { type: "button", class: "small danger", onclick: send("declined") }, "Decline")));
  return form;
}

function uploadForm(row, status) {
  const id = `clip-${row.request_id}-${row.camera_id}`;
  const input = el("input", { type: "file", id, name: "file", accept: "video/*,image/jpeg,image/png" });
  const result = el("p", { role: "status", class: "upload-result" });
  const button = el("button", { type: "submit", class: "small" }, "Upload clip");
  const upload = async (event) => {
    event.preventDefault();
    button.disabled = true;
    try {
      await sendClip(row, input, status, result);
    } finally {
      button.disabled = false;
    }
  };
  return el("form", { class: "upload", onsubmit: upload },
    el("label", { for: id }, "Send a clip"), input, button, result);
}

function showResult(result, kind, ...content) {
  result.className = `upload-result ${kind}`;
  replaceChildren(result, ...content);
}

async function sendClip(row, input, status, result) {
  const file = input.files[0];
  if (!file) {
    showResult(result, "form-error", "Choose a video or photo file first.");
    return;
  }
  showResult(result, "", "Uploading…");
  const data = new FormData();
  data.append("file", file);
  const path = `/api/owner/requests/${encodeURIComponent(row.request_id)}/cameras/${encodeURIComponent(row.camera_id)}/clip`;
  try {
    const item = await api(path, { method: "POST", formData: data });
    status.textContent = words("uploaded");
    status.className = "badge answer-uploaded";
    // The fingerprint lets the owner check later that the agency holds exactly this file.
    showResult(result, "form-ok", `Uploaded ${file.name} (${bytes(item.size_bytes)}, ${item.media_type}). SHA-256: `,
      el("code", { class: "hash" }, item.sha256));
    input.value = "";
  } catch (error) {
    showResult(result, "form-error", `Upload failed: ${error.message}`);
  }
}

export async function loadNotifications(container) {
  try {
    const items = await api("/api/owner/notifications");
    const unread = items.filter((n) => !n.read_at).length;
    Object.assign(byId("unread-count"), { textContent: String(unread), hidden: unread === 0 });
    replaceChildren(container, items.length
      ? el("ul", { class: "notifications" }, items.map((n) => notificationItem(n, container)))
      : notice("No notifications."));
  } catch (error) {
    replaceChildren(container, notice(`Notifications could not be loaded: ${error.message}`, "error"));
  }
}

function notificationItem(n, container) {
  const markRead = async () => {
    await api(`/api/owner/notifications/${encodeURIComponent(n.id)}/read`, { method: "POST" }).catch(() => null);
    await loadNotifications(container);
  };
  // Only links into this site are followed; a notification cannot send the owner elsewhere.
  const link = n.link && n.link.startsWith("/") && !n.link.startsWith("//") ? n.link : null;
  return el("li", { class: n.read_at ? "read" : "unread" },
    el("p", {}, el("strong", {}, n.subject), " ", el("span", { class: "muted" }, timeElement(n.created_at))),
    el("p", { class: "pre" }, n.body),
    el("p", { class: "actions" },
      link ? el("a", { href: link }, "Open") : null,
      n.read_at ? null : el("button", { type: "button", class: "small secondary", onclick: markRead }, "Mark as read")));
}
