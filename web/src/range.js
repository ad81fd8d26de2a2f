// The time range of a chart over time (the watch floor's records and detections):
// presets from 6 hours to 30 days and a custom from/to. The choice lives in the page's
// URL (#/?range=7d, #/?range=custom&from=ISO&to=ISO, both UTC) so that a link or a reload
// shows the same view; the chart's request and its CSV links carry the same from, to
// and bucket. The bucket follows the span: hours up to 3 days, days up to 400 days,
// months beyond. The series API answers at most 10,000 buckets (hour, day, or 28 days
// for a month, as the center counts them); a custom range is checked the same way here,
// so the center never has to refuse what the picker sends.
import { h } from './dom.js';
import { t, label } from './i18n/index.js';
import { num, time, isoToLocalInput, localInputToIso } from './fmt.js';

const HOUR = 3600e3;
const DAY = 24 * HOUR;
export const PRESETS = { '6h': 6 * HOUR, '24h': 24 * HOUR, '48h': 48 * HOUR, '7d': 7 * DAY, '30d': 30 * DAY };
export const DEFAULT_RANGE = '48h';
export const MAX_BUCKETS = 10000;
const WIDTH = { hour: HOUR, day: DAY, month: 28 * DAY };

export function bucketFor(span) {
  return span <= 3 * DAY ? 'hour' : span <= 400 * DAY ? 'day' : 'month';
}

export function iso(ms) { return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'); }

// null when [from, to) can be charted, else the message to show
export function checkRange(from, to) {
  if (!Number.isFinite(from) || !Number.isFinite(to)) return t('range.bad.date');
  if (from >= to) return t('range.bad.order');
  const bk = bucketFor(to - from);
  if (Math.floor((to - from) / WIDTH[bk]) > MAX_BUCKETS) return t('range.bad.long', { n: num(MAX_BUCKETS) });
  return null;
}

// The range a page's query asks for: {key, from, to, bucket, error}. An unknown key or
// a custom range that cannot be charted falls back to the default (with the reason).
export function parseRange(query, now = Date.now()) {
  const key = query.get('range') || DEFAULT_RANGE;
  if (key === 'custom') {
    const from = Date.parse(query.get('from') || '');
    const to = Date.parse(query.get('to') || '');
    const error = checkRange(from, to);
    if (!error) return { key, from, to, bucket: bucketFor(to - from) };
    return { ...preset(DEFAULT_RANGE, now), error };
  }
  return preset(PRESETS[key] ? key : DEFAULT_RANGE, now);
}

function preset(key, now) {
  return { key, from: now - PRESETS[key], to: now, bucket: bucketFor(PRESETS[key]) };
}

// The query of the series API for a range
export function apiRange(r) {
  return { bucket: r.bucket, from: iso(r.from), to: iso(r.to) };
}

// The page's URL for a range (the other parameters of the page kept)
export function rangeHash(r, hash = location.hash) {
  const [path, q] = hash.replace(/^#/, '').split('?');
  const p = new URLSearchParams(q || '');
  for (const k of ['range', 'from', 'to']) p.delete(k);
  if (r.key === 'custom') { p.set('range', 'custom'); p.set('from', iso(r.from)); p.set('to', iso(r.to)); }
  else if (r.key !== DEFAULT_RANGE) p.set('range', r.key);
  const s = p.toString();
  return '#' + (path || '/') + (s ? '?' + s : '');
}

// A short text for the chart's subtitle: "per day, last 7 days"
export function rangeText(r) {
  const span = r.key === 'custom' ? t('range.custom.text', { from: time(iso(r.from)), to: time(iso(r.to)) }) : t('range.' + r.key);
  return t('range.sub', { bucket: label('bucket', r.bucket), range: span });
}

// The picker: a labelled select of the presets and "custom", whose from/to fields and
// button appear only for a custom range. onPick(range) gets a checked range; a custom
// range that cannot be charted is refused with a visible message and nothing changes.
export function rangePicker(current, onPick) {
  const pick = h('select', { id: 'range-pick', name: 'range' },
    [...Object.keys(PRESETS), 'custom'].map((k) => h('option', { value: k, selected: k === current.key }, t('range.' + k))));
  const from = h('input', { id: 'range-from', name: 'from', type: 'datetime-local', value: isoToLocalInput(iso(current.from)) });
  const to = h('input', { id: 'range-to', name: 'to', type: 'datetime-local', value: isoToLocalInput(iso(current.to)) });
  const err = h('p', { id: 'range-error', class: 'msg msg-error', role: 'alert', hidden: true });
  const custom = h('span', { class: 'range-custom', id: 'range-custom', hidden: current.key !== 'custom' },
    h('label', { for: 'range-from' }, t('range.from')), from,
    h('label', { for: 'range-to' }, t('range.to')), to,
    h('button', { type: 'submit', class: 'btn btn-small', id: 'range-apply' }, t('range.apply')));
  const fail = (msg) => { err.textContent = msg; err.hidden = false; };
  const form = h('form', { class: 'range', id: 'range-form', 'aria-label': t('range.label'), novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    if (pick.value !== 'custom') return;
    const f = Date.parse(localInputToIso(from.value)), tt = Date.parse(localInputToIso(to.value));
    const bad = checkRange(f, tt);
    if (bad) { fail(bad); return; }
    err.hidden = true;
    onPick({ key: 'custom', from: f, to: tt, bucket: bucketFor(tt - f) });
  } },
  h('label', { for: 'range-pick' }, t('range.label')), pick, custom, err);
  pick.addEventListener('change', () => {
    err.hidden = true;
    custom.hidden = pick.value !== 'custom';
    if (pick.value === 'custom') { from.focus(); return; }
    onPick(preset(pick.value, Date.now()));
  });
  if (current.error) fail(current.error);
  return form;
}
