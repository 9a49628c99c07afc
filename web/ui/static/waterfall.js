// The waterfall island: replaces the first rows the server rendered with
// every row of the trace, windowed (only the rows in view exist in the
// DOM), so a trace of 10,000 spans scrolls as one of 10. Arrow keys move
// through the spans, Enter or a click shows one in the detail panel and
// puts it in the URL (?span=), as the server-rendered links do.

/* global htmx */

const rowHeight = 24;
const overscan = 10;

/** The URL of this trace with span selected, and with ?panel= for its detail. */
function spanURL(id, panel) {
  const url = new URL(location.href);
  url.searchParams.set("span", id);
  if (panel) url.searchParams.set("panel", panel);
  return url.pathname + url.search;
}

function duration(us) {
  if (us >= 1e6) return `${(us / 1e6).toPrecision(3)}s`;
  if (us >= 1e3) return `${(us / 1e3).toPrecision(3)}ms`;
  return `${us}µs`;
}

class Waterfall {
  constructor(root) {
    this.data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
    this.rows = this.data.rows; // [start µs, duration µs, depth, service, name, flags, id]
    this.cursor = Math.max(0, this.rows.findIndex((r) => r[6] === this.data.selected));
    this.viewport = document.createElement("div");
    this.viewport.className = "wf-viewport";
    this.viewport.tabIndex = 0;
    this.viewport.setAttribute("role", "region");
    this.viewport.setAttribute("aria-label", `Waterfall of ${this.rows.length} spans: arrow keys move, Enter shows a span`);
    this.spacer = document.createElement("div");
    this.spacer.className = "wf-spacer";
    this.spacer.style.height = `${this.rows.length * rowHeight}px`;
    this.viewport.append(this.spacer);
    root.querySelector(".wf-rows")?.remove();
    root.querySelector(".more")?.remove();
    root.append(this.viewport);
    this.viewport.addEventListener("scroll", () => this.render());
    this.viewport.addEventListener("keydown", (e) => this.key(e));
    this.viewport.addEventListener("click", (e) => this.click(e));
    new ResizeObserver(() => this.render()).observe(this.viewport);
    this.scrollTo(this.cursor);
    this.render();
  }

  /** Draws the rows in view, and a few around them. */
  render() {
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / rowHeight) - overscan);
    const count = Math.ceil(this.viewport.clientHeight / rowHeight) + 2 * overscan;
    const rows = [];
    for (let i = first; i < Math.min(this.rows.length, first + count); i++) rows.push(this.row(i));
    this.spacer.replaceChildren(...rows);
  }

  row(i) {
    const [start, dur, depth, svc, name, flags, id] = this.rows[i];
    const total = Math.max(this.data.total, 1);
    const li = document.createElement("div");
    li.className = "wf-row" + (flags & 1 ? " err" : "") + (flags & 2 ? " crit" : "") + (i === this.cursor ? " sel" : "");
    li.style.top = `${i * rowHeight}px`;
    const a = document.createElement("a");
    a.className = `wf-name depth-${Math.min(depth, 40)}`;
    a.href = spanURL(id);
    a.tabIndex = -1;
    a.dataset.index = i;
    const s = document.createElement("span");
    s.className = "svc";
    s.textContent = this.data.services[svc];
    a.append(s, ` ${name}`);
    const bar = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    bar.setAttribute("class", "wf-bar");
    bar.setAttribute("viewBox", "0 0 1000 10");
    bar.setAttribute("preserveAspectRatio", "none");
    bar.setAttribute("aria-hidden", "true");
    const rect = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    rect.setAttribute("x", (1000 * start / total).toFixed(1));
    rect.setAttribute("y", "1");
    rect.setAttribute("width", Math.max(2, 1000 * dur / total).toFixed(1));
    rect.setAttribute("height", "8");
    bar.append(rect);
    const d = document.createElement("span");
    d.className = "wf-dur";
    d.textContent = duration(dur);
    li.append(a, bar, d);
    return li;
  }

  scrollTo(i) {
    const top = i * rowHeight;
    const v = this.viewport;
    if (top < v.scrollTop) v.scrollTop = top;
    else if (top + rowHeight > v.scrollTop + v.clientHeight) v.scrollTop = top + rowHeight - v.clientHeight;
  }

  key(e) {
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: 20, PageUp: -20, Home: -Infinity, End: Infinity };
    if (e.key in moves) {
      e.preventDefault();
      this.cursor = Math.max(0, Math.min(this.rows.length - 1, this.cursor + moves[e.key]));
      this.scrollTo(this.cursor);
      this.render();
    } else if (e.key === "Enter") {
      e.preventDefault();
      this.select(this.cursor);
    }
  }

  click(e) {
    const a = e.target.closest("a.wf-name");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    this.cursor = Number(a.dataset.index);
    this.select(this.cursor);
  }

  /** Shows span i in the detail panel and puts it in the URL. */
  select(i) {
    const id = this.rows[i][6];
    this.data.selected = id;
    this.render();
    history.pushState({ htmx: true }, "", spanURL(id));
    htmx.ajax("GET", spanURL(id, "span"), { target: "#span-detail", swap: "innerHTML" });
  }
}

function setup(root) {
  for (const el of root.querySelectorAll("[data-waterfall]")) {
    if (!el.waterfall) el.waterfall = new Waterfall(el);
  }
}

setup(document);
document.addEventListener("htmx:after:settle", () => setup(document));
