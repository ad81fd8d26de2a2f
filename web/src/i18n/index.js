// i18n: t(key, params) with {name} placeholders. Japanese is the default when the
// browser prefers it; the choice is kept in localStorage.
import ja from './ja.js';
import en from './en.js';

const tables = { ja, en };
let lang = pick();

function pick() {
  try {
    const saved = localStorage.getItem('cw_lang');
    if (saved === 'ja' || saved === 'en') return saved;
  } catch (_) { /* storage may be disabled */ }
  const prefs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
  return String(prefs[0] || '').toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

export function getLang() { return lang; }

export function setLang(l) {
  lang = l === 'ja' ? 'ja' : 'en';
  try { localStorage.setItem('cw_lang', lang); } catch (_) { /* ignore */ }
  document.documentElement.lang = lang;
}

export function t(key, params) {
  let s = tables[lang][key];
  if (s === undefined) s = en[key];
  if (s === undefined) return key;
  if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
  return s;
}

// A label for a value from the API ("ac.sql_injection"); the raw value when unknown
// (classes added later, e.g. dns:*, still show as text).
export function label(prefix, value) {
  const k = prefix + '.' + value;
  return tables[lang][k] !== undefined || en[k] !== undefined ? t(k) : String(value);
}

export const keys = { ja: Object.keys(ja), en: Object.keys(en) };
