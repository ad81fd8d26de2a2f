// Incident reports (issue 10, docs/incidents.md): a member reports through a form whose
// choices come from the taxonomy API; the coordinator lists, classifies and follows them;
// sector bodies and ministries see the reports of their sectors. The server decides who
// sees what; a report the caller may not see is "not found or not allowed".
import { h, table, empty, clear } from '../dom.js';
import { get, post, qs } from '../api.js';
import { t, label } from '../i18n/index.js';
import { time, localInputToIso } from '../fmt.js';
import { flash } from '../flash.js';
import { notFound } from './event.js';
import { members } from './events.js';
import { loadTaxonomy, taxLabel, taxSelect, causeBoxes, checkedValues, field, input, options, msgArea, pagedTable } from './share_util.js';

export const STATUSES = ['reported', 'investigating', 'contained', 'recovered', 'closed'];
const MEMBER_ROLES = ['member_admin', 'member_user'];

function statusBadge(s) {
  return h('span', { class: 'badge istatus-' + s }, label('istatus', s));
}

function fyNow() {
  // April-March in Japan time
  const d = new Date(Date.now() + 9 * 3600 * 1000);
  return d.getUTCMonth() >= 3 ? d.getUTCFullYear() : d.getUTCFullYear() - 1;
}
export { fyNow };

export async function renderList(ctx) {
  const { main, query, coord, session } = ctx;
  const f = Object.fromEntries(query.entries());
  const isMember = MEMBER_ROLES.includes(session.role);
  main.append(h('h1', null, t('inc.title')), h('p', { class: 'muted' },
    t(coord ? 'inc.intro.coord' : isMember ? 'inc.intro.member' : 'inc.intro.org')));
  if (isMember) main.append(h('p', null, h('a', { class: 'btn btn-primary', href: '#/incidents/new', id: 'inc-new' }, t('inc.new'))));
  const tax = await loadTaxonomy();
  const memberOpts = coord ? await members() : [];
  const fy = input('f-fy', { type: 'number', min: 2000, max: 2100, value: f.fy || '' });
  const form = h('form', { class: 'filters', 'aria-label': t('inc.filters'), onsubmit: (e) => {
    e.preventDefault();
    const p = {
      member: coord ? form.querySelector('#f-member').value : '',
      fy: fy.value, status: form.querySelector('#f-status').value,
    };
    location.hash = '#/incidents' + qs(p);
  } },
  coord ? field('f-member', t('inc.f.member'), options('f-member', memberOpts, f.member, t('common.all'))) : null,
  field('f-fy', t('inc.f.fy'), fy),
  field('f-status', t('inc.f.status'), options('f-status', STATUSES.map((s) => ({ value: s, name: label('istatus', s) })), f.status, t('common.all'))),
  h('div', { class: 'field field-buttons' },
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'f-apply' }, t('common.apply')),
    h('a', { class: 'btn', href: '#/incidents' }, t('common.reset'))));
  main.append(form);
  const PAGE = 100;
  const load = async (after) => {
    const r = await get('/api/v1/incidents' + qs({ member: coord ? f.member : '', fy: f.fy, status: f.status, limit: PAGE, after: after || '' }));
    return { rows: r.incidents || [], next: r.next_after || 0 };
  };
  const make = (list) => table(t('inc.title'), [
    { label: t('common.id'), num: true, cell: (x) => String(x.id) },
    { label: t('inc.col.title'), cell: (x) => h('a', { href: '#/incidents/' + x.id }, x.title) },
    isMember ? null : { label: t('common.member'), cell: (x) => x.member },
    { label: t('inc.col.status'), cell: (x) => statusBadge(x.status) },
    { label: t('inc.col.event'), cell: (x) => taxLabel(tax, 'event', x.event) },
    { label: t('inc.col.reported'), cell: (x) => time(x.reported) },
    { label: t('inc.col.fy'), cell: (x) => t('stats.fyq', { fy: x.fiscal_year, q: x.quarter }) },
  ].filter(Boolean), list, { cls: 'incidents' });
  try {
    await pagedTable(main, load, make, Object.keys(f).length ? t('inc.empty.filtered') : isMember ? t('inc.empty.member') : t('inc.empty'));
  } catch (e) {
    main.append(h('p', { class: 'msg msg-error', role: 'alert' }, e.message));
  }
}

// The report form. Validation is the center's: its reason is shown as text.
export async function renderNew(ctx) {
  const { main } = ctx;
  const tax = await loadTaxonomy();
  main.append(h('h1', null, t('inc.new')), h('p', { class: 'muted' }, t('inc.new.intro')));
  const msg = msgArea('inc-msg');
  const title = input('inc-title', { required: true, maxlength: 300 });
  const what = h('textarea', { id: 'inc-what', rows: 5 });
  const systems = input('inc-systems');
  const occurred = input('inc-occurred', { type: 'datetime-local' });
  const ev = taxSelect(tax, 'event', 'inc-event', '', t('inc.event.unknown'));
  const causes = causeBoxes(tax, 'inc-causes', [], t('inc.causes'));
  const send = h('button', { type: 'submit', class: 'btn btn-primary', id: 'inc-send' }, t('inc.send'));
  const form = h('form', { class: 'panel stack', id: 'inc-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    msg.reset();
    const body = { title: title.value.trim() };
    if (what.value.trim()) body.what = what.value;
    if (systems.value.trim()) body.systems = systems.value.trim();
    if (occurred.value) body.occurred = localInputToIso(occurred.value);
    if (ev.value) body.event = ev.value;
    const cs = checkedValues(causes);
    if (cs.length) body.causes = cs;
    send.disabled = true;
    try {
      const r = await post('/api/v1/incidents', body);
      flash('ok', t('inc.sent', { id: r.id }));
      location.hash = '#/incidents/' + r.id;
    } catch (ex) {
      msg.fail(ex);
      send.disabled = false;
    }
  } },
  field('inc-title', t('inc.f.title'), title),
  field('inc-what', t('inc.f.what'), what),
  field('inc-systems', t('inc.f.systems'), systems),
  field('inc-occurred', t('inc.f.occurred'), occurred),
  field('inc-event', t('inc.f.event'), ev),
  causes, msg, h('div', null, send));
  main.append(form);
}

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

export function receiptsTable(list, id) {
  if (!list || !list.length) return empty(t('share.noreceipts'));
  return h('div', { class: 'table-wrap', id }, table(t('share.receipts'), [
    { label: t('share.col.hop'), num: true, cell: (x) => String(x.hop) },
    { label: t('share.col.to'), cell: (x) => x.to + (x.to_kind ? ' (' + label('orgkind', x.to_kind) + ')' : '') },
    { label: t('share.col.via'), cell: (x) => x.via || t('common.none') },
    { label: t('share.col.sent'), cell: (x) => time(x.sent) },
    { label: t('share.col.delivered'), cell: (x) => time(x.delivered) },
    { label: t('share.col.read'), cell: (x) => (x.read ? time(x.read) + ' · ' + (x.read_by || '') : t('share.unread')) },
    { label: t('share.col.forwarded'), cell: (x) => (x.forwarded ? time(x.forwarded) + ' · ' + (x.forwarded_by || '') : t('common.none')) },
  ], list, { cls: 'receipts' }));
}

export async function renderOne(ctx) {
  const { main, params, coord, session } = ctx;
  if (!/^[0-9]{1,18}$/.test(params.id)) return notFound(main);
  let x;
  try {
    x = await get('/api/v1/incidents/' + params.id);
  } catch (e) {
    if (e.status === 404 || e.status === 403) return notFound(main);
    throw e;
  }
  const tax = await loadTaxonomy();
  const isMember = MEMBER_ROLES.includes(session.role);
  const msg = msgArea('inc-msg');
  const again = async (text) => { clear(main); await renderOne(ctx); if (text) main.querySelector('#inc-msg').ok(text); };
  main.append(h('h1', null, t('inc.one', { id: x.id }), ' ', statusBadge(x.status)), msg);
  main.append(h('article', { class: 'panel', 'aria-labelledby': 'inc-h' },
    h('h2', { id: 'inc-h', class: 'inc-title' }, x.title),
    facts([
      isMember ? null : [t('common.member'), x.member + (x.sector ? ' · ' + x.sector : '')],
      x.ref ? [t('inc.ref'), x.ref] : null,
      [t('inc.f.occurred'), time(x.occurred)],
      [t('inc.col.reported'), time(x.reported)],
      [t('inc.col.fy'), t('stats.fyq', { fy: x.fiscal_year, q: x.quarter })],
      [t('inc.f.event'), taxLabel(tax, 'event', x.event)],
      [t('inc.causes'), (x.causes || []).length ? x.causes.map((c) => taxLabel(tax, 'cause', c)).join(' / ') : t('common.none')],
      [t('inc.attack'), x.attack ? taxLabel(tax, 'attack', x.attack) : t('inc.attack.none')],
      [t('inc.f.systems'), x.systems || t('common.none')],
      [t('inc.by'), x.created_by || t('common.none')],
    ]),
    h('h3', null, t('inc.f.what')), h('p', { class: 'prose', id: 'inc-what-text' }, x.what || t('common.none'))));

  const acts = h('section', { class: 'panel', 'aria-labelledby': 'inc-act-h' }, h('h2', { id: 'inc-act-h' }, t('event.actions')));
  if (isMember || coord) {
    const st = options('inc-status', STATUSES.filter((s) => s !== x.status).map((s) => ({ value: s, name: label('istatus', s) })), '');
    const note = h('textarea', { id: 'inc-note', rows: 2 });
    acts.append(h('form', { class: 'stack', id: 'inc-update', onsubmit: async (e) => {
      e.preventDefault();
      const body = { status: st.value };
      if (note.value.trim()) body.note = note.value;
      try { await post(`/api/v1/incidents/${x.id}/update`, body); await again(t('common.done')); } catch (ex) { msg.fail(ex); }
    } }, h('h3', null, t('inc.update')), field('inc-status', t('inc.f.status'), st), field('inc-note', t('inc.note'), note),
    h('div', null, h('button', { type: 'submit', class: 'btn', id: 'inc-update-send' }, t('inc.update.send')))));
  }
  if (coord) {
    const ev = taxSelect(tax, 'event', 'cls-event', x.event, t('inc.event.unknown'));
    const causes = causeBoxes(tax, 'cls-causes', x.causes, t('inc.causes'));
    const atk = options('cls-attack', (tax.attack || []).map((a) => ({ value: a.code, name: a.code + ' ' + taxLabel(tax, 'attack', a.code) })), x.attack || '', t('inc.attack.none'));
    acts.append(h('form', { class: 'stack', id: 'inc-classify', onsubmit: async (e) => {
      e.preventDefault();
      const body = { causes: checkedValues(causes), attack: atk.value || null };
      if (ev.value) body.event = ev.value;
      try { await post(`/api/v1/incidents/${x.id}/classify`, body); await again(t('inc.classified')); } catch (ex) { msg.fail(ex); }
    } }, h('h3', null, t('inc.classify')), field('cls-event', t('inc.f.event'), ev), causes, field('cls-attack', t('inc.attack'), atk),
    h('div', null, h('button', { type: 'submit', class: 'btn btn-primary', id: 'inc-classify-send' }, t('inc.classify.send')))));
  }
  if (!isMember) {
    acts.append(h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn', id: 'inc-read', onclick: async () => {
        try { await post(`/api/v1/incidents/${x.id}/read`); await again(t('share.read.done')); } catch (ex) { msg.fail(ex); }
      } }, t('share.read')),
      session.role === 'ministry_user' ? h('button', { type: 'button', class: 'btn', id: 'inc-forward', onclick: async () => {
        try { await post(`/api/v1/incidents/${x.id}/forward`); await again(t('share.forward.done')); } catch (ex) { msg.fail(ex); }
      } }, t('share.forward.coord')) : null));
  }
  main.append(acts);

  const hist = x.history || [];
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'ih-h', id: 'inc-history' }, h('h2', { id: 'ih-h' }, t('inc.history')),
    hist.length ? h('ol', { class: 'history' }, hist.map((y) => h('li', null, h('time', null, time(y.at)), ' ', h('strong', null, y.actor || ''), ' ', y.change || '')))
      : empty(t('event.nohistory'))));
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'ir-h' }, h('h2', { id: 'ir-h' }, t('share.receipts')), receiptsTable(x.receipts, 'inc-receipts')));
}
