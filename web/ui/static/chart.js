// The chart island: draws each <figure data-chart> with uPlot from the
// JSON the server put in it (the same numbers as its "view as table").
// Dragging across a chart zooms: the range goes into the URL. Clicking a
// point opens its drill-down (the traces of that step, or a scatter
// point's trace).

/* global uPlot, htmx */

const palette = ["--c1", "--c2", "--c3", "--c4", "--c5", "--c6", "--c7", "--c8"];

/** A tick's number, short: 1.2k, 3.5M; the unit is in the caption. */
function short(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(3)}`;
}

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The URL of the current view with the range [from, to) in seconds. */
function zoomed(from, to) {
  const url = new URL(location.href);
  url.searchParams.set("from", new Date(from * 1000).toISOString());
  url.searchParams.set("to", new Date(to * 1000).toISOString());
  url.searchParams.delete("panel");
  return url.pathname + url.search;
}

/** Where a click at data index idx, near series s, leads; null: nowhere. */
function drillTarget(spec, idx, s) {
  if (spec.kind === "scatter") return spec.links?.[idx] ?? null;
  if (!spec.drill) return null;
  const url = new URL(spec.drill, location.href);
  const from = spec.x[idx];
  url.searchParams.set("from", new Date(from * 1000).toISOString());
  url.searchParams.set("to", new Date((from + spec.step) * 1000).toISOString());
  if (spec.by && s) url.searchParams.set(spec.by, spec.series[s - 1].label);
  return url.pathname + url.search;
}

/** The series whose point at idx is nearest the cursor's height. */
function nearestSeries(u, idx) {
  let best = 0;
  let bestDist = Infinity;
  for (let s = 1; s < u.series.length; s++) {
    const v = u.data[s][idx];
    if (v == null) continue;
    const dist = Math.abs(u.valToPos(v, "y") - u.cursor.top);
    if (dist < bestDist) [best, bestDist] = [s, dist];
  }
  return best;
}

function seriesOf(spec) {
  if (spec.kind !== "scatter") {
    return spec.series.map((s, i) => ({
      label: s.label,
      stroke: css(palette[i % palette.length]),
      width: 1.5,
      spanGaps: false,
    }));
  }
  // A scatter draws ok and failed points as two series of dots.
  const dots = (label, color) => ({ label, stroke: color, fill: color, paths: () => null, points: { show: true, size: 7 } });
  return [dots("ok", css("--c1")), dots("failed", css("--bad"))];
}

function dataOf(spec) {
  if (spec.kind !== "scatter") return [spec.x, ...spec.series.map((s) => s.values)];
  const s = spec.series[0];
  const bad = s.bad ?? [];
  return [spec.x, s.values.map((v, i) => (bad[i] ? null : v)), s.values.map((v, i) => (bad[i] ? v : null))];
}

/** Dashed lines across the chart at each mark's value. */
function drawMarks(spec) {
  return (u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.strokeStyle = css("--muted");
    ctx.fillStyle = css("--muted");
    ctx.setLineDash([6, 4]);
    for (const m of spec.marks ?? []) {
      const y = Math.round(u.valToPos(m.value, "y", true));
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.fillText(m.label, u.bbox.left + 4, y - 4);
    }
    ctx.restore();
  };
}

function options(spec, width) {
  const axis = { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 }, ticks: { stroke: css("--line") } };
  return {
    width,
    height: 220,
    series: [{}, ...seriesOf(spec)],
    axes: [axis, { ...axis, size: 56, values: (u, vals) => vals.map(short) }],
    scales: spec.marks?.length ? { y: { range: (u, min, max) => [Math.min(min ?? 0, ...spec.marks.map((m) => m.value)), Math.max(max ?? 1, ...spec.marks.map((m) => m.value))] } } : {},
    cursor: { drag: { x: true, y: false, setScale: false } },
    legend: { show: spec.kind !== "scatter" },
    hooks: {
      draw: [drawMarks(spec)],
      setSelect: [(u) => {
        if (u.select.width < 5) return;
        const from = u.posToVal(u.select.left, "x");
        const to = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ width: 0, height: 0 }, false);
        const url = zoomed(from, to);
        htmx.ajax("GET", url, { target: "#app", swap: "innerHTML", push: url });
      }],
    },
  };
}

function draw(figure) {
  const spec = JSON.parse(figure.querySelector('script[type="application/json"]').textContent);
  const plot = figure.querySelector(".plot");
  plot.replaceChildren();
  if (!spec.x?.length) {
    plot.textContent = "No data in this range.";
    return;
  }
  const u = new uPlot(options(spec, plot.clientWidth || 480), dataOf(spec), plot);
  let down = null;
  u.over.addEventListener("mousedown", (e) => { down = e.clientX; });
  u.over.addEventListener("mouseup", (e) => {
    const moved = down !== null && Math.abs(e.clientX - down) > 4;
    down = null;
    const idx = u.cursor.idx;
    if (moved || idx == null) return;
    const target = drillTarget(spec, idx, spec.kind === "scatter" ? 0 : nearestSeries(u, idx));
    if (target) location.assign(target);
  });
  new ResizeObserver(() => u.setSize({ width: plot.clientWidth || 480, height: 220 })).observe(plot);
  figure.chart = u;
}

function drawAll(root) {
  for (const figure of root.querySelectorAll("figure[data-chart]")) {
    if (!figure.chart) draw(figure);
  }
}

drawAll(document);
document.addEventListener("htmx:after:settle", (event) => drawAll(event.target));
document.addEventListener("vigil:theme", () => {
  for (const figure of document.querySelectorAll("figure[data-chart]")) {
    figure.chart?.destroy();
    figure.chart = null;
    draw(figure);
  }
});
