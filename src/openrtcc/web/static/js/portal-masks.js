// Privacy masks drawn over a blank 16:9 frame: click to add points, close the polygon, delete a mask.
// Points are stored as fractions of the frame (0..1), so a mask fits the main stream and the substream.
import { el, replaceChildren } from "./dom.js";

const MAX_MASKS = 16;
const MAX_POINTS = 32;

export class MaskEditor {
  /** canvas: a <canvas>; list: where the masks are listed with their delete buttons; status: a live line. */
  constructor(canvas, list, status) {
    this.canvas = canvas;
    this.list = list;
    this.status = status;
    this.masks = [];
    this.current = [];
    canvas.addEventListener("click", (event) => this.addPoint(event));
  }

  load(masks) {
    this.masks = (masks || []).map((m) => m.map(([x, y]) => [x, y]));
    this.current = [];
    this.refresh();
  }

  addPoint(event) {
    const box = this.canvas.getBoundingClientRect();
    const x = clamp((event.clientX - box.left) / box.width);
    const y = clamp((event.clientY - box.top) / box.height);
    if (this.current.length >= MAX_POINTS) return this.say(`A mask has at most ${MAX_POINTS} points: close it.`);
    this.current.push([round(x), round(y)]);
    this.refresh();
  }

  close() {
    if (this.current.length < 3) return this.say("A mask needs at least three points.");
    if (this.masks.length >= MAX_MASKS) return this.say(`At most ${MAX_MASKS} masks per camera.`);
    this.masks.push(this.current);
    this.current = [];
    this.refresh();
    this.say(`Mask ${this.masks.length} closed. Save to send it to the box.`);
  }

  discardCurrent() {
    this.current = [];
    this.refresh();
  }

  remove(index) {
    this.masks.splice(index, 1);
    this.refresh();
    this.say(`Mask ${index + 1} deleted. Save to apply.`);
  }

  say(text) {
    this.status.textContent = text;
  }

  refresh() {
    this.draw();
    replaceChildren(this.list, this.masks.map((mask, i) => el("li", {},
      `Mask ${i + 1}: ${mask.length} points `,
      el("button", { type: "button", class: "small danger", onclick: () => this.remove(i) }, `Delete mask ${i + 1}`))));
  }

  draw() {
    const ctx = this.canvas.getContext("2d");
    const { width, height } = this.canvas;
    ctx.fillStyle = "#5b6470";
    ctx.fillRect(0, 0, width, height);
    const path = (points) => {
      ctx.beginPath();
      points.forEach(([x, y], i) => (i ? ctx.lineTo(x * width, y * height) : ctx.moveTo(x * width, y * height)));
    };
    ctx.fillStyle = "#000";
    for (const mask of this.masks) {
      path(mask);
      ctx.closePath();
      ctx.fill();
    }
    if (this.current.length) {
      ctx.strokeStyle = "#ffd166";
      ctx.lineWidth = 2;
      path(this.current);
      ctx.stroke();
      ctx.fillStyle = "#ffd166";
      for (const [x, y] of this.current) ctx.fillRect(x * width - 3, y * height - 3, 6, 6);
    }
  }
}

function clamp(v) {
  return Math.min(1, Math.max(0, v));
}

function round(v) {
  return Math.round(v * 10000) / 10000;
}
