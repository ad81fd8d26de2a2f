// Formatting of times and numbers for the current language (UTC shown as local time).
import { getLang, t } from './i18n/index.js';

export function num(n) {
  if (n === null || n === undefined || n === '') return t('common.none');
  return new Intl.NumberFormat(getLang() === 'ja' ? 'ja-JP' : 'en-GB').format(n);
}

export function time(iso) {
  if (!iso) return t('common.none');
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return new Intl.DateTimeFormat(getLang() === 'ja' ? 'ja-JP' : 'en-GB', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

export function clock(iso) {
  const d = new Date(iso);
  if (!iso || isNaN(d)) return t('common.none');
  return new Intl.DateTimeFormat(getLang() === 'ja' ? 'ja-JP' : 'en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(d);
}

export function ago(iso) {
  if (!iso) return t('sensors.never');
  const sec = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (sec < 120) return t('time.ago.s', { n: sec });
  if (sec < 7200) return t('time.ago.m', { n: Math.round(sec / 60) });
  if (sec < 172800) return t('time.ago.h', { n: Math.round(sec / 3600) });
  return t('time.ago.d', { n: Math.round(sec / 86400) });
}

export function bytes(n) {
  if (n === null || n === undefined) return t('common.none');
  if (n < 1024) return t('notice.bytes', { n });
  const u = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return v.toFixed(1) + ' ' + u[i];
}

// datetime-local input value <-> ISO (UTC)
export function localInputToIso(v) {
  if (!v) return '';
  const d = new Date(v);
  return isNaN(d) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
export function isoToLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
