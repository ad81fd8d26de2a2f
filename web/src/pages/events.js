// The event queue: filters (member, attack class, severity, state, time, text), server-side
// paging (newest first, `next` cursor) and keyboard triage: j/k move, Enter open,
// a assign, s state, m merge, n write a notice, ? help, / search.
import { h, clear, empty } from '../dom.js';
import { get, qs } from '../api.js';
import { t, label } from '../i18n/index.js';
import { num, time, localInputToIso, isoToLocalInput } from '../fmt.js';
import { assignDialog, stateDialog, mergeDialog, helpDialog, isTyping, STATES } from '../dialogs.js';

export const CLASSES = ['path_traversal', 'command_exec', 'sql_injection', 'xss', 'ssrf', 'template_jndi', 'webshell',
  'credential', 'edge_exploit', 'malware_c2', 'scanning', 'policy', 'other'];
const KEYS = [['j', 'help.j'], ['k', 'help.k'], ['Enter', 'help.enter'], ['a', 'help.a'], ['s', 'help.s'], ['m', 'help.m'],
  ['n', 'help.n'], ['/', 'help.slash'], ['?', 'help.q'], ['Esc', 'help.esc']];
const PAGE = 50;

export async function members() {
  try {
    const r = await get('/api/v1/summary?group=member');
    return (r.rows || []).map((x) => ({ value: x.label || x.key, name: x.label || x.key }));
  } catch (_) {
    try {
      const r = await get('/api/v1/members');
      return (r.members || []).map((m) => ({ value: m.name, name: m.name }));
    } catch (__) { return []; }
  }
}

function select(id, lbl, options, value) {
  return [h('label', { for: id }, lbl),
    h('select', { id, name: id }, h('option', { value: '' }, t('common.all')),
      options.map((o) => h('option', { value: o.value, selected: String(o.value) === String(value || '') }, o.name)))];
}

export async function render(ctx) {
  const { main, query, coord } = ctx;
  const f = Object.fromEntries(query.entries());
  main.append(h('h1', null, t('events.title')));
  const memberOpts = coord ? await members() : [];
  const qIn = h('input', { id: 'f-q', name: 'q', type: 'search', value: f.q || '', autocomplete: 'off' });
  const since = h('input', { id: 'f-since', type: 'datetime-local', value: isoToLocalInput(f.since) });
  const until = h('input', { id: 'f-until', type: 'datetime-local', value: isoToLocalInput(f.until) });
  const form = h('form', { class: 'filters', 'aria-label': t('events.filters'), onsubmit: (e) => {
    e.preventDefault();
    const p = {
      member: coord ? form.querySelector('#f-member').value : '',
      attack_class: form.querySelector('#f-class').value,
      severity: form.querySelector('#f-severity').value,
      state: form.querySelector('#f-state').value,
      since: localInputToIso(since.value), until: localInputToIso(until.value), q: qIn.value.trim(),
    };
    location.hash = '#/events' + qs(p);
  } },
  coord ? h('div', { class: 'field' }, select('f-member', t('events.f.member'), memberOpts, f.member)) : null,
  h('div', { class: 'field' }, select('f-class', t('events.f.class'), CLASSES.map((c) => ({ value: c, name: label('ac', c) })), f.attack_class)),
  h('div', { class: 'field' }, select('f-severity', t('events.f.severity'), [1, 2, 3, 4, 5].map((v) => ({ value: v, name: label('sev', v) })), f.severity)),
  h('div', { class: 'field' }, select('f-state', t('events.f.state'), ['open', ...STATES].map((v) => ({ value: v, name: label('state', v) })), f.state)),
  h('div', { class: 'field' }, h('label', { for: 'f-since' }, t('events.f.since')), since),
  h('div', { class: 'field' }, h('label', { for: 'f-until' }, t('events.f.until')), until),
  h('div', { class: 'field field-wide' }, h('label', { for: 'f-q' }, t('events.f.q')), qIn),
  h('div', { class: 'field field-buttons' },
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'f-apply' }, t('common.apply')),
    h('a', { class: 'btn', href: '#/events' }, t('common.reset'))));
  main.append(form);
  if (coord) main.append(h('p', { class: 'muted keys-hint', id: 'keys-hint' }, t('events.keys')));

  const tbody = h('tbody');
  const status = h('p', { class: 'sr-only', role: 'status', id: 'queue-status' });
  const more = h('button', { type: 'button', class: 'btn', id: 'more', hidden: true }, t('common.more'));
  const tbl = h('table', { class: 'grid queue', id: 'queue' },
    h('caption', { class: 'sr-only' }, t('events.title')),
    h('thead', null, h('tr', null, [
      ['events.col.id', true], ['events.col.sev'], coord ? ['events.col.member'] : null, ['events.col.class'], ['events.col.state'],
      ['events.col.source'], ['events.col.target'], ['events.col.count', true], ['events.col.last'], ['events.col.assignee'],
    ].filter(Boolean).map(([k, n]) => h('th', { scope: 'col', class: n ? 'num' : null }, t(k))))),
    tbody);
  const holder = h('div', { class: 'table-wrap' }, tbl);
  main.append(holder, more, status);

  let rows = [];
  let sel = -1;
  let next = null;
  const params = { member: f.member, attack_class: f.attack_class, severity: f.severity, state: f.state, since: f.since, until: f.until, q: f.q, order: 'newest', limit: PAGE };

  async function load(after) {
    const r = await get('/api/v1/events' + qs({ ...params, after }));
    const evs = r.events || [];
    next = r.next !== undefined ? r.next : (evs.length === PAGE ? r.next_after : null);
    rows = rows.concat(evs);
    evs.forEach((ev) => tbody.append(row(ev, coord)));
    more.hidden = !next;
    if (!rows.length) {
      holder.replaceWith(empty(coord ? t('events.empty') : t('events.empty.member')));
    }
  }
  more.addEventListener('click', () => load(next));
  await load();
  if (rows.length) select_(0, false);

  function select_(i, focus = true) {
    if (!rows.length) return;
    i = Math.max(0, Math.min(rows.length - 1, i));
    const trs = tbody.querySelectorAll('tr');
    trs.forEach((tr) => tr.setAttribute('aria-selected', 'false'));
    sel = i;
    trs[i].setAttribute('aria-selected', 'true');
    if (focus) trs[i].querySelector('a').focus();
    status.textContent = t('events.selected', { id: rows[i].id });
  }

  tbody.addEventListener('focusin', (e) => {
    const tr = e.target.closest('tr');
    if (tr) select_([...tbody.children].indexOf(tr), false);
  });

  async function reloadRow(i) {
    const ev = await get('/api/v1/events/' + rows[i].id);
    rows[i] = ev;
    const old = tbody.children[i];
    const fresh = row(ev, coord);
    old.replaceWith(fresh);
    select_(i);
  }

  const onKey = async (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (isTyping(e)) return;
    const cur = rows[sel];
    switch (e.key) {
      case 'j': e.preventDefault(); select_(sel + 1); break;
      case 'k': e.preventDefault(); select_(sel - 1); break;
      case 'Enter': if (cur && document.activeElement === document.body) { e.preventDefault(); location.hash = '#/events/' + cur.id; } break;
      case '/': e.preventDefault(); qIn.focus(); break;
      case '?': e.preventDefault(); await helpDialog(KEYS); break;
      case 'a': if (coord && cur) { e.preventDefault(); if (await assignDialog(cur)) await reloadRow(sel); else select_(sel); } break;
      case 's': if (coord && cur) { e.preventDefault(); if (await stateDialog(cur)) await reloadRow(sel); else select_(sel); } break;
      case 'm': if (coord && cur) { e.preventDefault(); if (await mergeDialog(cur)) await reloadRow(sel); else select_(sel); } break;
      case 'n': if (coord && cur) { e.preventDefault(); location.hash = '#/compose' + qs({ member: cur.member, events: cur.id }); } break;
      default: break;
    }
  };
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}

export function sevBadge(sev) {
  const names = ['', 'critical', 'high', 'medium', 'low', 'info'];
  return h('span', { class: 'badge sev-' + (names[sev] || 'info') }, label('sev', sev));
}

export function stateBadge(st) {
  return h('span', { class: 'badge state-' + st }, label('state', st));
}

function row(ev, coord) {
  return h('tr', { 'data-id': ev.id, 'aria-selected': 'false' },
    h('td', { class: 'num' }, h('a', { href: '#/events/' + ev.id }, String(ev.id))),
    h('td', null, sevBadge(ev.severity)),
    coord ? h('td', null, ev.member) : null,
    h('td', null, label('ac', ev.attack_class)),
    h('td', null, stateBadge(ev.state)),
    h('td', { class: 'mono' }, ev.key_source || t('common.none')),
    h('td', { class: 'mono' }, ev.key_target || t('common.none')),
    h('td', { class: 'num' }, num(ev.count)),
    h('td', null, time(ev.last_seen)),
    h('td', null, ev.assignee || t('event.unassigned')));
}
