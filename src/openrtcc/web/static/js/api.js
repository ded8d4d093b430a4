// The one way pages talk to the hub: JSON in and out, the anti-forgery header, and a trip back
// to the log-on page whenever the session has ended (idle lock, 12-hour re-authentication).

export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `The hub answered with status ${status}`);
    this.status = status;
    this.code = body.error || "error";
    this.details = body.details || {};
  }
}

export function loginUrl(reason) {
  const here = location.pathname + location.search + location.hash;
  const params = new URLSearchParams();
  if (reason) params.set("reason", reason);
  if (location.pathname !== "/login") params.set("next", here);
  return "/login?" + params.toString();
}

export function sendToLogin(reason) {
  location.assign(loginUrl(reason));
}

// The log-on page shows a fixed sentence per reason, never text taken from its address, so a
// crafted link cannot put words of its own on the log-on page.
export function reasonFor(error) {
  if (error.code === "session_expired") {
    if (/idle/.test(error.message)) return "idle";
    if (/12 hours/.test(error.message)) return "reauth";
    return "ended";
  }
  if (error.code === "mfa_enrolment_required") return "enrol";
  return "signin";
}

async function parseBody(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

function request(method, body, formData) {
  // Cookie-authenticated changes must carry this header; other sites cannot add it.
  const init = { method, credentials: "same-origin", headers: { "X-Requested-With": "rtcc", Accept: "application/json" } };
  if (formData) {
    init.body = formData;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return init;
}

/**
 * Call the API. Options: method, body (sent as JSON), formData (multipart), and
 * keepOn401 for the calls whose 401 is an answer to show, not an ended session (log-on itself).
 */
export async function api(path, { method = "GET", body, formData, keepOn401 = false } = {}) {
  let response;
  try {
    response = await fetch(path, request(method, body, formData));
  } catch {
    throw new ApiError(0, { error: "network", message: "The hub cannot be reached. Check the connection and try again." });
  }
  if (response.status === 204) return null;
  const data = await parseBody(response);
  if (response.ok) return data;
  const error = new ApiError(response.status, data || { error: `http_${response.status}`, message: `The hub answered ${response.status} ${response.statusText}.` });
  if (response.status === 401 && !keepOn401) sendToLogin(reasonFor(error));
  throw error;
}
