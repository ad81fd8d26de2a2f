// Helpers of the information-sharing and indicator pages: the incident taxonomy (labels
// in the current language come from the taxonomy itself, not from our tables), labelled
// form fields, and messages that show the center's reason as text.
import { h, clear, empty } from '../dom.js';
import { get } from '../api.js';
import { t, getLang } from '../i18n/index.js';

let taxonomy = null;
export async function loadTaxonomy() {
  if (!taxonomy) taxonomy = await get('/api/v1/incident-taxonomy');
  return taxonomy;
}

// "E3" -> "可用性を脅かす事象" / "threatens availability"; an unknown code shows as itself.
export function taxLabel(tax, dim, code) {
  if (!code) return t('common.none');
  const e = (tax[dim] || []).find((x) => x.code === code || x.key === code);
  return e ? (getLang() === 'ja' ? e.ja : e.en) : String(code);
}

export function taxGroup(e) {
  return getLang() === 'ja' ? e.group_ja : e.group;
}

// A <select> of one taxonomy dimension, grouped as in the national table.
export function taxSelect(tax, dim, id, value, emptyLabel) {
  const groups = [];
  for (const e of tax[dim] || []) {
    const g = taxGroup(e);
    let og = groups.find((x) => x.name === g);
    if (!og) groups.push(og = { name: g, items: [] });
    og.items.push(e);
  }
  return h('select', { id, name: id },
    h('option', { value: '' }, emptyLabel),
    groups.map((g) => h('optgroup', { label: g.name }, g.items.map((e) =>
      h('option', { value: e.code, selected: e.code === value }, e.code + ' ' + (getLang() === 'ja' ? e.ja : e.en))))));
}

// Causes are a set: one checkbox per cause, grouped (意図的 / 偶発的 / 環境的 / その他).
export function causeBoxes(tax, idPrefix, checked, legend) {
  const set = new Set(checked || []);
  const groups = [];
  for (const e of tax.cause || []) {
    const g = taxGroup(e);
    let og = groups.find((x) => x.name === g);
    if (!og) groups.push(og = { name: g, items: [] });
    og.items.push(e);
  }
  return h('fieldset', { class: 'causes', id: idPrefix },
    h('legend', null, legend),
    groups.map((g) => h('div', { class: 'cause-group' }, h('div', { class: 'muted small' }, g.name),
      g.items.map((e) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: e.code, id: idPrefix + '-' + e.code, checked: set.has(e.code) }), ' ',
        e.code + ' ' + (getLang() === 'ja' ? e.ja : e.en))))));
}

export function checkedValues(root) {
  return [...root.querySelectorAll('input[type=checkbox]:checked')].map((x) => x.value);
}

// label + control in a .field
export function field(id, lbl, control) {
  return h('div', { class: 'field' }, h('label', { for: id }, lbl), control);
}

export function input(id, attrs = {}) {
  return h('input', { id, name: id, autocomplete: 'off', ...attrs });
}

export function options(id, list, value, allLabel) {
  return h('select', { id, name: id },
    allLabel !== undefined ? h('option', { value: '' }, allLabel) : null,
    list.map((o) => h('option', { value: o.value, selected: String(o.value) === String(value ?? '') }, o.name)));
}

// A message area: ok/error text, the center's own reason for a refusal.
export function msgArea(id) {
  const el = h('div', { id, 'aria-live': 'polite' });
  el.ok = (text) => { clear(el); el.append(h('p', { class: 'msg msg-ok', role: 'status' }, text)); };
  el.fail = (e) => {
    clear(el);
    el.append(h('p', { class: 'msg msg-error', role: 'alert' }, e && e.status === 403 ? t('common.forbidden') : (e && e.message) || String(e)));
  };
  el.reset = () => clear(el);
  return el;
}

export function reload() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export const isOrgRole = (role) => role === 'sector_user' || role === 'ministry_user';

// A table read page by page through the API's `after` cursor (`next_after`, 0 or null
// on the last page), oldest first as the API lists; "Show more" adds the next page.
// load(after) -> {rows, next}; make(rows) -> a <table>.
export async function pagedTable(main, load, make, emptyText) {
  const first = await load(0);
  if (!first.rows.length && !first.next) { main.append(empty(emptyText)); return; }
  const tbl = make(first.rows);
  main.append(h('div', { class: 'table-wrap' }, tbl));
  let after = first.next;
  if (!after) return;
  const more = h('button', { type: 'button', class: 'btn', id: 'more', onclick: async () => {
    const p = await load(after);
    tbl.querySelector('tbody').append(...make(p.rows).querySelector('tbody').children);
    after = p.next;
    if (!after) more.remove();
  } }, t('common.more'));
  main.append(more);
}
