// Dashboard (coordinator) / overview (member): live counters over Server-Sent Events,
// and the charts. The same page for both; the server scopes every figure.
import { h, clear, table, empty } from '../dom.js';
import { get, qs } from '../api.js';
import { t, label } from '../i18n/index.js';
import { num, time, clock } from '../fmt.js';
import { figure, lineChart, barChart, groupedBars, fillBuckets, PALETTE } from '../charts.js';
import { parseRange, apiRange, rangeHash, rangeText, rangePicker } from '../range.js';

const SEVS = ['critical', 'high', 'medium', 'low', 'info'];

export async function render(ctx) {
  const { main, session, coord } = ctx;
  main.append(h('h1', null, coord ? t('dash.title') : session.member ? t('dash.portal.title', { member: session.member }) : t('app.portal')));
  const liveState = h('p', { class: 'live-state', id: 'live-state', role: 'status' }, t('common.loading'));
  const cards = h('div', { class: 'cards', id: 'counters' });
  main.append(h('section', { 'aria-labelledby': 'live-h', class: 'live' },
    h('h2', { id: 'live-h', class: 'sr-only' }, t('dash.live')), liveState, cards));
  if (!coord) main.append(await waitingNotices());
  const charts = h('div', { class: 'charts' });
  main.append(charts);

  const es = new EventSource('/api/v1/live');
  let last = null;
  es.addEventListener('counters', (ev) => {
    let d;
    try { d = JSON.parse(ev.data); } catch (_) { return; }
    last = d;
    drawCounters(cards, d, coord, session.role);
    liveState.textContent = t('dash.live.on') + ' · ' + t('common.updated', { time: clock(d.time) });
    liveState.setAttribute('data-time', d.time || '');
    liveState.classList.remove('off');
  });
  es.onerror = () => {
    liveState.textContent = t('dash.live.off');
    liveState.classList.add('off');
    if (!last) drawCounters(cards, null, coord, session.role);
  };

  await drawCharts(charts, coord, ctx.query);
  return () => es.close();
}

function card(id, title, value, extra, href) {
  const v = h('span', { class: 'card-value', id: id + '-value' }, value);
  return h('div', { class: 'card', id },
    h('span', { class: 'card-title' }, title),
    href ? h('a', { href, class: 'card-link' }, v) : v,
    extra ? h('div', { class: 'card-extra' }, extra) : null);
}

function drawCounters(el, d, coord, role) {
  clear(el);
  if (!d) {
    el.append(empty(t('err.network')));
    return;
  }
  const noise = d.noise_dropped || {};
  const noiseTotal = Object.values(noise).reduce((a, b) => a + b, 0);
  const open = d.open_events || {};
  const openTotal = SEVS.reduce((a, k) => a + (open[k] || 0), 0);
  el.append(
    card('c-records', t('dash.records_in'), num(d.records_in), t('dash.records_per_min', { n: num(d.records_per_min) })),
    card('c-detections', t('dash.detections'), num(d.detections), null, coord ? null : '#/detections'),
    card('c-noise', t('dash.noise'), num(noiseTotal),
      noiseTotal ? h('ul', { class: 'mini' }, Object.entries(noise).filter(([, n]) => n).map(([k, n]) =>
        h('li', null, label('noise', k) + ': ' + num(n)))) : t('dash.noise.none')),
    card('c-open', t('dash.open_events'), num(openTotal),
      h('ul', { class: 'sevrow' }, SEVS.map((k) => h('li', { class: 'sev sev-' + k },
        h('a', { href: '#/events?state=open&severity=' + (SEVS.indexOf(k) + 1) }, label('sev', k) + ' ' + num(open[k] || 0))))),
      '#/events?state=open'),
    card('c-silent', t('dash.sensors_silent'), num(d.sensors_silent), t('dash.sensors_silent.hint'),
      role === 'coordinator_analyst' ? null : '#/sensors'),
    card('c-overdue', t('dash.notices_overdue'), num(d.notices_overdue), null, coord ? '#/notices/overdue' : '#/notices'));
  if (d.sensors_silent > 0) el.querySelector('#c-silent').classList.add('warn');
  if (d.notices_overdue > 0) el.querySelector('#c-overdue').classList.add('warn');
}

async function waitingNotices() {
  const sec = h('section', { class: 'panel', 'aria-labelledby': 'wait-h' }, h('h2', { id: 'wait-h' }, t('nav.notices')));
  try {
    const r = await get('/api/v1/notices');
    const open = (r.notices || []).filter((n) => n.state !== 'closed');
    if (!open.length) sec.append(empty(t('notices.empty.member')));
    else sec.append(table(t('nav.notices'), [
      { label: t('notices.col.id'), cell: (n) => String(n.id) },
      { label: t('notices.col.title'), cell: (n) => h('a', { href: '#/notices/' + n.id }, n.title) },
      { label: t('notices.col.state'), cell: (n) => h('span', { class: 'badge nstate-' + n.state }, label('nstate', n.state)) },
      { label: t('notices.col.answer_by'), cell: (n) => h('span', { class: n.overdue ? 'overdue' : null }, time(n.answer_by), n.overdue ? ' (' + t('notices.overdue') + ')' : '') },
    ], open));
  } catch (e) {
    sec.append(h('p', { class: 'msg msg-error', role: 'alert' }, t('common.error', { msg: e.message })));
  }
  return sec;
}

async function safe(p) {
  try { return { ok: await p }; } catch (e) { return { err: e }; }
}

function unavailable(e) {
  return h('p', { class: 'msg msg-info', role: 'status' }, t('chart.unavailable', { msg: e.message }));
}

async function drawCharts(el, coord, query) {
  const [recs, classes, noise, nstats] = await Promise.all([
    recordsFigure(parseRange(query)),
    safe(get('/api/v1/summary' + qs({ group: 'attack_class' }))),
    safe(get('/api/v1/summary' + qs({ group: 'noise_reason' }))),
    safe(get('/api/v1/notices/stats')),
  ]);
  el.append(recs);
  // events by attack class
  el.append(summaryFigure('chart-classes', t('chart.classes'), classes, 'ac', 'attack_class'));
  // noise removed by reason
  el.append(summaryFigure('chart-noise', t('chart.noise'), noise, 'noise', 'noise_reason', (r) => r.key !== 'kept'));
  // notices per month and per fiscal year
  {
    const tm = t('chart.notices.month');
    const tf = t('chart.notices.fy');
    const csv = '/api/v1/notices/stats?format=csv&for=spreadsheet';
    const series = [{ name: t('chart.notices.sent'), color: PALETTE[0] }, { name: t('chart.notices.acked'), color: PALETTE[2] }];
    if (nstats.err) {
      el.append(figure('chart-notices-month', tm, null, unavailable(nstats.err)));
    } else {
      const months = nstats.ok.months || [];
      const fys = nstats.ok.fiscal_years || [];
      el.append(figure('chart-notices-month', tm, csv,
        groupedBars(months.map((m) => ({ label: m.month, values: [m.sent, m.acknowledged || 0] })), series, tm),
        table(tm, [{ label: 'month', cell: (m) => m.month }, { label: series[0].name, num: true, cell: (m) => num(m.sent) },
          { label: series[1].name, num: true, cell: (m) => num(m.acknowledged || 0) }], months)));
      el.append(figure('chart-notices-fy', tf, csv,
        groupedBars(fys.map((f) => ({ label: t('chart.fy', { fy: f.fy }), values: [f.sent, f.acknowledged || 0] })), series, tf),
        table(tf, [{ label: 'FY', cell: (f) => t('chart.fy', { fy: f.fy }) }, { label: series[0].name, num: true, cell: (f) => num(f.sent) },
          { label: series[1].name, num: true, cell: (f) => num(f.acknowledged || 0) }], fys)));
    }
  }
}

// Records and detections over the chosen range (range.js), with its picker. A new
// choice goes into the URL (a link or a reload shows the same range; Back returns to
// the previous one through the router) and redraws this figure only, keeping the
// keyboard focus on the picker.
let picks = 0;
async function recordsFigure(r) {
  const range = apiRange(r);
  const [rec, det] = await Promise.all([
    safe(get('/api/v1/series' + qs({ metric: 'records', ...range }))),
    safe(get('/api/v1/series' + qs({ metric: 'detections', ...range }))),
  ]);
  const title = t('chart.records');
  let body, filled = [];
  if (rec.err || det.err) body = unavailable(rec.err || det.err);
  else {
    const sr = fillBuckets(rec.ok.points || [], r.from, r.to, r.bucket);
    const sd = fillBuckets(det.ok.points || [], r.from, r.to, r.bucket);
    filled = sr;
    body = lineChart([
      { name: t('chart.records.series'), color: PALETTE[0], points: sr },
      { name: t('chart.detections.series'), color: PALETTE[1], points: sd },
    ], r.bucket, title);
  }
  const tbl = rec.ok && det.ok ? table(title, [
    { label: 'UTC', cell: (p) => p.t },
    { label: t('chart.records.series'), num: true, cell: (p) => num(p.r) },
    { label: t('chart.detections.series'), num: true, cell: (p) => num(p.d) },
  ], mergeTimes(rec.ok.points || [], det.ok.points || [])) : null;
  const fig = figure('chart-records', title, '/api/v1/series' + qs({ metric: 'records', ...range, format: 'csv', for: 'spreadsheet' }), body, tbl, rangeText(r));
  fig.querySelector('figcaption').append(h('a', { class: 'btn btn-small', href: '/api/v1/series' + qs({ metric: 'detections', ...range, format: 'csv', for: 'spreadsheet' }),
    download: 'chart-detections.csv', title: t('common.csv.title', { chart: t('chart.detections.series') }) }, t('common.csv') + ' (' + t('chart.detections.series') + ')'));
  fig.setAttribute('data-range', r.key);
  fig.setAttribute('data-bucket', r.bucket);
  fig.setAttribute('data-buckets', String(filled.length));
  fig.querySelector('figcaption').after(rangePicker(r, async (nr) => {
    history.pushState(null, '', rangeHash(nr));
    const gen = ++picks;
    const next = await recordsFigure(nr);
    const shown = document.getElementById('chart-records');
    if (gen !== picks || !shown) return; // a later choice, or another page by now
    shown.replaceWith(next);
    next.querySelector(nr.key === 'custom' ? '#range-apply' : '#range-pick').focus();
  }));
  return fig;
}

function mergeTimes(a, b) {
  const m = new Map();
  for (const p of a) m.set(p.t, { t: p.t, r: p.value, d: 0 });
  for (const p of b) { const x = m.get(p.t) || { t: p.t, r: 0, d: 0 }; x.d = p.value; m.set(p.t, x); }
  return [...m.values()].sort((x, y) => (x.t < y.t ? -1 : 1));
}

function summaryFigure(id, title, res, prefix, group, keep = () => true) {
  const csv = '/api/v1/summary' + qs({ group, format: 'csv', for: 'spreadsheet' });
  if (res.err) return figure(id, title, null, unavailable(res.err));
  const rows = (res.ok.rows || []).filter(keep).map((r) => ({ label: label(prefix, r.key), value: r.count, key: r.key }));
  rows.sort((a, b) => b.value - a.value);
  return figure(id, title, csv, barChart(rows, title),
    table(title, [{ label: t('common.id'), cell: (r) => r.key }, { label: title, cell: (r) => r.label },
      { label: '#', num: true, cell: (r) => num(r.value) }], rows));
}
