// Small SVG charts drawn from API figures (no library): a time line chart with one or
// more series, horizontal bars, grouped vertical bars. Each chart comes in a <figure>
// with a title, a CSV download of the same figures from the server (?format=csv,
// for=spreadsheet: a cell a spreadsheet would run as a formula gets a leading ') and
// the figures as a table for screen readers and for those who prefer to read.
import { h, s, table, empty } from './dom.js';
import { t, getLang } from './i18n/index.js';
import { num } from './fmt.js';

// viewBox width: 640 for a chart in a half-width panel, more for a full-width one, so
// that text keeps its size
export const WIDTH = 640;
const H = 220;
const PAD = { l: 52, r: 28, t: 12, b: 28 };
export const PALETTE = ['#60a5fa', '#f59e0b', '#34d399', '#f472b6', '#a78bfa', '#f87171', '#22d3ee', '#fde047', '#fb923c', '#94a3b8'];

export function figure(id, title, csvHref, body, dataTable, sub) {
  return h('figure', { class: 'chart', id },
    h('figcaption', null,
      h('span', { class: 'chart-title' }, title),
      sub ? h('span', { class: 'chart-sub' }, sub) : null,
      csvHref ? h('a', { class: 'btn btn-small', href: csvHref, download: id + '.csv',
        title: t('common.csv.title', { chart: title }), 'aria-label': t('common.csv.title', { chart: title }) }, t('common.csv')) : null),
    body,
    dataTable ? h('details', { class: 'chart-table' }, h('summary', null, t('chart.table')), dataTable) : null);
}

// The top of the value axis: a round number, and at least 4 so that the four grid
// steps of a chart of counts are whole numbers.
function niceMax(v) {
  if (v <= 4) return 4;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function fmtTick(d, bucket) {
  const loc = getLang() === 'ja' ? 'ja-JP' : 'en-GB';
  if (bucket === 'hour') return new Intl.DateTimeFormat(loc, { month: 'numeric', day: 'numeric', hour: '2-digit' }).format(d);
  if (bucket === 'month') return new Intl.DateTimeFormat(loc, { year: 'numeric', month: 'short' }).format(d);
  return new Intl.DateTimeFormat(loc, { month: 'numeric', day: 'numeric' }).format(d);
}

const STEP = { hour: 3600e3, day: 86400e3 };

// Fill the buckets the server left out with zeros, between from and to.
export function fillBuckets(points, from, to, bucket) {
  const step = STEP[bucket];
  const byT = new Map(points.map((p) => [new Date(p.t).getTime(), p.value]));
  if (!step) return points.map((p) => ({ t: new Date(p.t).getTime(), v: p.value }));
  const start = Math.floor(from / step) * step;
  const out = [];
  for (let x = start; x <= to; x += step) out.push({ t: x, v: byT.get(x) || 0 });
  return out;
}

// series: [{name, color, points:[{t(ms), v}]}]
export function lineChart(series, bucket, ariaLabel, W = WIDTH) {
  const all = series.flatMap((se) => se.points);
  if (!all.length || all.every((p) => !p.v)) return empty(t('chart.empty'));
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t));
  const vmax = niceMax(Math.max(...all.map((p) => p.v)));
  const x = (tt) => PAD.l + (t1 === t0 ? 0.5 : (tt - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = (v) => H - PAD.b - (v / vmax) * (H - PAD.t - PAD.b);
  const g = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'svgchart', role: 'img', 'aria-label': ariaLabel });
  for (let i = 0; i <= 4; i++) {
    const v = (vmax * i) / 4;
    g.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'gridline' }));
    g.appendChild(s('text', { x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, num(v)));
  }
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const tt = t0 + ((t1 - t0) * i) / ticks;
    g.appendChild(s('text', { x: x(tt), y: H - 8, 'text-anchor': 'middle', class: 'axis' }, fmtTick(new Date(tt), bucket)));
  }
  series.forEach((se) => {
    const d = se.points.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p.v).toFixed(1)).join(' ');
    g.appendChild(s('path', { d, fill: 'none', stroke: se.color, 'stroke-width': 2, class: 'series' }));
  });
  const legend = h('ul', { class: 'legend' }, series.map((se) =>
    h('li', null, swatch(se.color), se.name)));
  return h('div', null, g, legend);
}

function swatch(color) {
  return s('svg', { width: 12, height: 12, 'aria-hidden': 'true', class: 'swatch' }, s('rect', { width: 12, height: 12, rx: 2, fill: color }));
}

// rows: [{label, value}]
export function barChart(rows, ariaLabel, W = WIDTH) {
  if (!rows.length || rows.every((r) => !r.value)) return empty(t('chart.empty'));
  const rowH = 22;
  const lw = 190;
  const hh = rows.length * rowH + 8;
  const vmax = Math.max(...rows.map((r) => r.value));
  const g = s('svg', { viewBox: `0 0 ${W} ${hh}`, class: 'svgchart', role: 'img', 'aria-label': ariaLabel });
  rows.forEach((r, i) => {
    const yy = 4 + i * rowH;
    const bw = vmax ? (r.value / vmax) * (W - lw - 70) : 0;
    g.appendChild(s('text', { x: lw - 8, y: yy + 15, 'text-anchor': 'end', class: 'axis label' }, r.label));
    g.appendChild(s('rect', { x: lw, y: yy + 3, width: Math.max(bw, 1), height: rowH - 7, rx: 2, fill: r.color || PALETTE[i % PALETTE.length] }));
    g.appendChild(s('text', { x: lw + bw + 6, y: yy + 15, class: 'axis value' }, num(r.value)));
  });
  return g;
}

// groups: [{label, values:[n per series]}], series: [{name,color}]
export function groupedBars(groups, series, ariaLabel, W = WIDTH) {
  if (!groups.length || groups.every((gr) => gr.values.every((v) => !v))) return empty(t('chart.empty'));
  const vmax = niceMax(Math.max(...groups.flatMap((gr) => gr.values)));
  const gw = (W - PAD.l - PAD.r) / groups.length;
  const bw = Math.min(28, (gw - 8) / series.length);
  const y = (v) => H - PAD.b - (v / vmax) * (H - PAD.t - PAD.b);
  const g = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'svgchart', role: 'img', 'aria-label': ariaLabel });
  for (let i = 0; i <= 4; i++) {
    const v = (vmax * i) / 4;
    g.appendChild(s('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'gridline' }));
    g.appendChild(s('text', { x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, num(v)));
  }
  groups.forEach((gr, i) => {
    const gx = PAD.l + i * gw + (gw - bw * series.length) / 2;
    gr.values.forEach((v, k) => {
      g.appendChild(s('rect', { x: gx + k * bw, y: y(v), width: bw - 2, height: Math.max(0, H - PAD.b - y(v)), fill: series[k].color }));
    });
    if (groups.length <= 24 || i % Math.ceil(groups.length / 12) === 0)
      g.appendChild(s('text', { x: PAD.l + i * gw + gw / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis' }, gr.label));
  });
  const legend = h('ul', { class: 'legend' }, series.map((se) => h('li', null, swatch(se.color), se.name)));
  return h('div', null, g, legend);
}

export function dataTable(caption, cols, rows) {
  return table(caption, cols, rows);
}
