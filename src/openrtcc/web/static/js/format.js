// How dates, sizes and codes read on screen.

// The hub keeps UTC; a timestamp that arrives without a zone is UTC, not the browser's local time.
export function parseUtc(iso) {
  if (!iso) return null;
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? null : date;
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function localTime(iso) {
  const date = parseUtc(iso);
  return date ? DATE_TIME.format(date) : "—";
}

/** A <time> element: local time on screen, the exact UTC value for machines and tooltips. */
export function timeElement(iso) {
  const node = document.createElement("time");
  const date = parseUtc(iso);
  node.textContent = date ? DATE_TIME.format(date) : "—";
  if (date) {
    node.dateTime = date.toISOString();
    node.title = `${date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "")} UTC`;
  }
  return node;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function metres(m) {
  if (m === null || m === undefined) return "";
  return m >= 1000 ? `${(m / 1000).toFixed(2)} km` : `${Math.round(m)} m`;
}

const WORDS = {
  registered: "Registered",
  integrated: "Integrated",
  always: "Always",
  emergency_only: "Emergencies only",
  schedule: "On a schedule",
  paused: "Paused",
  active: "Active",
  withdrawn: "Withdrawn",
  pending: "Awaiting answer",
  approved: "Approved",
  declined: "Declined",
  uploaded: "Footage uploaded",
  open: "Open",
  never: "Never",
  on_request: "On request",
  email: "Email",
  phone: "Phone",
  portal: "Through the portal",
};

/** A stable API code as words; unknown codes are shown with their underscores replaced. */
export function words(code) {
  if (code === null || code === undefined) return "";
  return WORDS[code] || String(code).replaceAll("_", " ");
}

/** A datetime-local input's value (the user's local time) as a UTC ISO timestamp. */
export function localInputToUtc(value) {
  if (!value) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A Date as the value a datetime-local input expects, in the user's local time. */
export function dateToLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
