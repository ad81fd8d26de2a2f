// Alerts, advisories and ministry information (docs/incidents.md "An alert flows down"):
// the coordinator sends to sectors, a sector body forwards to its members, a ministry
// sends information to the coordinator; every recipient marks what it read and the
// receipts show who got, read and forwarded what.
import { h, table, clear } from '../dom.js';
import { get, post, qs } from '../api.js';
import { t, label, getLang } from '../i18n/index.js';
import { time } from '../fmt.js';
import { flash } from '../flash.js';
import { notFound } from './event.js';
import { receiptsTable } from './incidents.js';
import { field, input, options, msgArea, pagedTable } from './share_util.js';

const KINDS = ['alert', 'advisory', 'ministry_info'];

function kindBadge(k) {
  return h('span', { class: 'badge kind-' + k }, label('akind', k));
}

async function sendForm(ctx, main) {
  const { coord, session } = ctx;
  const ministry = session.role === 'ministry_user';
  if (!coord && !ministry) return;
  const msg = msgArea('alert-msg');
  const title = input('al-title', { required: true, maxlength: 300 });
  const body = h('textarea', { id: 'al-body', rows: 5 });
  let kind = null, boxes = null;
  if (coord) {
    kind = options('al-kind', ['alert', 'advisory'].map((k) => ({ value: k, name: label('akind', k) })), 'alert');
    let sectors = [];
    try { sectors = (await get('/api/v1/sectors')).sectors || []; } catch (_) { /* none */ }
    boxes = h('fieldset', { id: 'al-sectors' }, h('legend', null, t('alerts.sectors')),
      h('p', { class: 'muted small' }, t('alerts.sectors.hint')),
      sectors.length ? sectors.map((s) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: s.code, id: 'al-sector-' + s.code }), ' ',
        (getLang() === 'ja' ? s.name_ja : s.name_en) || s.code)) : h('p', { class: 'muted' }, t('alerts.nosectors')));
  }
  main.append(h('form', { class: 'panel stack', id: 'alert-form', onsubmit: async (e) => {
    e.preventDefault();
    const b = { title: title.value.trim() };
    if (body.value.trim()) b.body = body.value;
    if (coord) {
      b.kind = kind.value;
      const secs = [...boxes.querySelectorAll('input:checked')].map((x) => x.value);
      if (secs.length) b.sectors = secs;
    } else b.kind = 'ministry_info';
    try {
      const r = await post('/api/v1/alerts', b);
      flash('ok', t('alerts.sent', { id: r.id }));
      location.hash = '#/alerts/' + r.id;
    } catch (ex) { msg.fail(ex); }
  } }, h('h2', null, coord ? t('alerts.send') : t('alerts.send.ministry')),
  coord ? field('al-kind', t('alerts.kind'), kind) : null,
  field('al-title', t('alerts.f.title'), title),
  field('al-body', t('alerts.f.body'), body),
  boxes, msg,
  h('div', null, h('button', { type: 'submit', class: 'btn btn-primary', id: 'al-send' }, t('alerts.send.button')))));
}

export async function renderList(ctx) {
  const { main, query } = ctx;
  const kind = query.get('kind') || '';
  main.append(h('h1', null, t('alerts.title')), h('p', { class: 'muted' }, t('alerts.intro')));
  const form = h('form', { class: 'filters', 'aria-label': t('alerts.filters'), onsubmit: (e) => {
    e.preventDefault();
    location.hash = '#/alerts' + qs({ kind: form.querySelector('#f-kind').value });
  } }, field('f-kind', t('alerts.kind'), options('f-kind', KINDS.map((k) => ({ value: k, name: label('akind', k) })), kind, t('common.all'))),
  h('div', { class: 'field field-buttons' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.apply'))));
  main.append(form);
  const load = async (after) => {
    const r = await get('/api/v1/alerts' + qs({ kind, limit: 100, after: after || '' }));
    return { rows: r.alerts || [], next: r.next_after || 0 };
  };
  await pagedTable(main, load, (list) => table(t('alerts.title'), [
    { label: t('common.id'), num: true, cell: (x) => String(x.id) },
    { label: t('alerts.kind'), cell: (x) => kindBadge(x.kind) },
    { label: t('alerts.f.title'), cell: (x) => h('a', { href: '#/alerts/' + x.id }, x.title) },
    { label: t('alerts.col.from'), cell: (x) => x.from_org || t('alerts.coordinator') },
    { label: t('alerts.sectors'), cell: (x) => (x.sectors && x.sectors.length ? x.sectors.join(', ') : t('alerts.all')) },
    { label: t('share.col.sent'), cell: (x) => time(x.sent) },
  ], list, { cls: 'alerts' }), t('alerts.empty'));
  await sendForm(ctx, main);
}

export async function renderOne(ctx) {
  const { main, params, session, coord } = ctx;
  if (!/^[0-9]{1,18}$/.test(params.id)) return notFound(main);
  let a;
  try {
    a = await get('/api/v1/alerts/' + params.id);
  } catch (e) {
    if (e.status === 404 || e.status === 403) return notFound(main);
    throw e;
  }
  const msg = msgArea('alert-msg');
  const again = async (text) => { clear(main); await renderOne(ctx); if (text) main.querySelector('#alert-msg').ok(text); };
  main.append(h('h1', null, t('alerts.one', { id: a.id }), ' ', kindBadge(a.kind)), msg);
  main.append(h('article', { class: 'panel', 'aria-labelledby': 'al-h' },
    h('h2', { id: 'al-h', class: 'alert-title' }, a.title),
    h('dl', { class: 'facts' },
      h('dt', null, t('alerts.col.from')), h('dd', null, a.from_org || t('alerts.coordinator')),
      h('dt', null, t('share.col.sent')), h('dd', null, time(a.sent)),
      h('dt', null, t('alerts.sectors')), h('dd', null, a.sectors && a.sectors.length ? a.sectors.join(', ') : t('alerts.all'))),
    h('p', { class: 'prose', id: 'alert-body' }, a.body || t('common.none'))));
  // the caller's own receipt (a sector body also sees those it made by forwarding)
  const myKind = coord ? 'coordinator' : { sector_user: 'sector_body', ministry_user: 'ministry' }[session.role] || 'member';
  const mine = (a.receipts || []).filter((x) => x.to_kind === myKind && !x.read);
  if (!coord || a.kind === 'ministry_info') {
    main.append(h('div', { class: 'actions panel' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'alert-read', disabled: !mine.length, onclick: async () => {
        try { await post(`/api/v1/alerts/${a.id}/read`); await again(t('share.read.done')); } catch (ex) { msg.fail(ex); }
      } }, mine.length ? t('share.read') : t('share.read.already')),
      session.role === 'sector_user' ? h('button', { type: 'button', class: 'btn', id: 'alert-forward', onclick: async () => {
        try { await post(`/api/v1/alerts/${a.id}/forward`); await again(t('share.forward.done')); } catch (ex) { msg.fail(ex); }
      } }, t('share.forward.members')) : null));
  }
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'ar-h' }, h('h2', { id: 'ar-h' }, t('share.receipts')), receiptsTable(a.receipts, 'alert-receipts')));
}
