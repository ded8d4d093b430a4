// The command center's live connection: one WebSocket for every event of the agency, reconnected with
// back-off after a drop; each (re)connection first catches up from the REST APIs, so nothing missed while
// the line was down is lost.
import { api } from "./api.js";

const RECONNECT_MS = [1000, 2000, 5000, 10000];
const POLICY_VIOLATION = 1008; // the hub refused or closed the socket: usually the session has ended

export class CommandSocket {
  /** onMessage(message) for each event; catchUp() after each (re)connection; status(text, live). */
  constructor({ onMessage, catchUp, status }) {
    this.onMessage = onMessage;
    this.catchUp = catchUp;
    this.status = status;
    this.attempt = 0;
    this.ws = null;
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/command`);
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.status("live", true);
      this.catchUp().catch((error) => console.warn("catch-up failed", error));
    });
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type !== "heartbeat") this.onMessage(message);
    });
    ws.addEventListener("close", async (event) => {
      if (this.ws !== ws) return;
      this.status("reconnecting…", false);
      if (event.code === POLICY_VIOLATION) {
        // Asking who is logged on sends an ended session to the log-on page, instead of knocking forever.
        await api("/api/auth/me").catch(() => {});
      }
      const wait = RECONNECT_MS[Math.min(this.attempt, RECONNECT_MS.length - 1)];
      this.attempt += 1;
      setTimeout(() => this.connect(), wait);
    });
  }
}
