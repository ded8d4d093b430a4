// Weekly sharing windows for an integrated camera: one row per window.
import { el } from "./dom.js";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

export class ScheduleEditor {
  constructor(rows, addButton) {
    this.rows = rows;
    addButton.addEventListener("click", () => {
      this.add({ weekday: 0, start: "08:00", end: "18:00" });
      this.rows.lastElementChild.querySelector("select").focus();
    });
  }

  add({ weekday, start, end }) {
    const row = el("div", { class: "schedule-row" },
      this.labelled("Day", el("select", {}, DAYS.map((day, i) => el("option", { value: i, selected: i === weekday }, day)))),
      this.labelled("From", el("input", { type: "time", value: start })),
      this.labelled("Until", el("input", { type: "time", value: end })),
      el("button", { type: "button", class: "secondary small", onclick: () => this.remove(row) }, "Remove"));
    this.rows.append(row);
    this.renumber();
  }

  labelled(text, input) {
    return el("label", { class: "inline" }, el("span", {}, text), input);
  }

  remove(row) {
    row.remove();
    this.renumber();
  }

  // Names follow the API's field paths so the hub's complaint about window 2 lands on row 2.
  renumber() {
    [...this.rows.children].forEach((row, i) => {
      row.dataset.field = `sharing.schedule.${i}`;
      const [day, start, end] = row.querySelectorAll("select, input");
      day.name = `sharing.schedule.${i}.weekday`;
      start.name = `sharing.schedule.${i}.start`;
      end.name = `sharing.schedule.${i}.end`;
    });
  }

  set(windows) {
    this.rows.replaceChildren();
    for (const window of windows) this.add(window);
  }

  read() {
    return [...this.rows.children].map((row) => {
      const [day, start, end] = row.querySelectorAll("select, input");
      return { weekday: Number(day.value), start: start.value || null, end: end.value || null };
    });
  }
}
