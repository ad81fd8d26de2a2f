// Indicators (docs/indicators.md): the coordinator's list with filters, one indicator with
// its sightings and retro-hunt, publish/revoke, adding (the guard's refusals with their
// reasons, "force") and importing (per-object rejects); exports. A member sees the
// published indicators it is cleared for (the API decides) and the same export links.
import { h, table, empty, clear } from '../dom.js';
import { get, post, api, qs, cookieCsrf } from '../api.js';
import { t, label } from '../i18n/index.js';
import { time, num } from '../fmt.js';
import { notFound } from './event.js';
import { field, input, options, msgArea, pagedTable } from './share_util.js';

export const TYPES = ['domain', 'hostname', 'url', 'ipv4', 'ipv6', 'cidr', 'email', 'md5', 'sha1', 'sha256', 'ja3', 'ja4', 'user-agent'];
export const ISTATES = ['candidate', 'published', 'revoked', 'expired'];
export const TLPS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];
const FORMATS = ['stix', 'misp', 'csv', 'plain', 'rpz'];

export function tlpBadge(tlp) {
  return h('span', { class: 'badge tlp-' + String(tlp).toLowerCase().replace('+', '-') }, 'TLP:' + tlp);
}
// A retro-hunt state: running, done, or "failed: why" / "refused: why" (a CIDR too wide
// to hunt, docs/indicators.md) - a translated label, then the center's reason as text.
function retroState(st) {
  const m = /^(refused|failed):\s*(.*)$/s.exec(String(st || ''));
  if (!m) return label('rhstate', st);
  return h('span', { class: 'rh-' + m[1] }, h('strong', { class: 'rh-label' }, t('rhstate.' + m[1])),
    m[2] ? [' — ', h('span', { class: 'rh-reason' }, m[2])] : null);
}

export function istateBadge(s) {
  return h('span', { class: 'badge istate-' + s }, label('istate', s));
}

function exportLinks(f) {
  return h('p', { class: 'exports', id: 'ioc-exports' }, t('ioc.export'), ' ',
    FORMATS.map((fmt, i) => [i ? ' · ' : '', h('a', { href: '/api/v1/indicators/export' + qs({ format: fmt, for: fmt === 'csv' ? 'spreadsheet' : null, type: f.type, tlp: f.tlp }),
      download: 'indicators.' + (fmt === 'stix' || fmt === 'misp' ? 'json' : fmt === 'csv' ? 'csv' : 'txt'),
      'data-format': fmt }, label('iocfmt', fmt))]));
}

export async function renderList(ctx) {
  const { main, query, coord } = ctx;
  const f = Object.fromEntries(query.entries());
  main.append(h('h1', null, t('ioc.title')), h('p', { class: 'muted' }, t(coord ? 'ioc.intro.coord' : 'ioc.intro.member')));
  if (coord) main.append(h('p', { class: 'actions' },
    h('a', { class: 'btn btn-primary', href: '#/indicators/add', id: 'ioc-add-link' }, t('ioc.add')), ' ',
    h('a', { class: 'btn', href: '#/indicators/import', id: 'ioc-import-link' }, t('ioc.import'))));
  const q = input('f-q', { type: 'search', value: f.q || '' });
  const form = h('form', { class: 'filters', 'aria-label': t('ioc.filters'), onsubmit: (e) => {
    e.preventDefault();
    location.hash = '#/indicators' + qs({
      type: form.querySelector('#f-type').value, state: coord ? form.querySelector('#f-state').value : '',
      tlp: form.querySelector('#f-tlp').value, q: q.value.trim(),
    });
  } },
  field('f-type', t('ioc.type'), options('f-type', TYPES.map((x) => ({ value: x, name: x })), f.type, t('common.all'))),
  coord ? field('f-state', t('ioc.state'), options('f-state', ISTATES.map((x) => ({ value: x, name: label('istate', x) })), f.state, t('common.all'))) : null,
  field('f-tlp', t('ioc.tlp'), options('f-tlp', TLPS.map((x) => ({ value: x, name: 'TLP:' + x })), f.tlp, t('common.all'))),
  h('div', { class: 'field field-wide' }, h('label', { for: 'f-q' }, t('ioc.q')), q),
  h('div', { class: 'field field-buttons' },
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'f-apply' }, t('common.apply')),
    h('a', { class: 'btn', href: '#/indicators' }, t('common.reset'))));
  main.append(form, exportLinks(f));
  // the list API has no TLP filter: each page is filtered here (the export link filters on
  // the server)
  const load = async (after) => {
    const r = await get('/api/v1/indicators' + qs({ type: f.type, state: coord ? f.state : '', q: f.q, limit: 200, after: after || '' }));
    return { rows: (r.indicators || []).filter((x) => !f.tlp || x.tlp === f.tlp), next: r.next_after || 0 };
  };
  await pagedTable(main, load, (list) => table(t('ioc.title'), [
    { label: t('common.id'), num: true, cell: (x) => String(x.id) },
    { label: t('ioc.type'), cell: (x) => x.type },
    { label: t('ioc.value'), cls: 'mono', cell: (x) => h('a', { href: '#/indicators/' + x.id }, x.value) },
    { label: t('ioc.state'), cell: (x) => istateBadge(x.state) },
    { label: t('ioc.tlp'), cell: (x) => tlpBadge(x.tlp) },
    { label: t('ioc.confidence'), num: true, cell: (x) => String(x.confidence) },
    { label: t('ioc.sightings'), num: true, cell: (x) => num(x.sightings || 0) },
    { label: t('ioc.last_seen'), cell: (x) => time(x.last_seen) },
  ], list, { cls: 'indicators' }), coord ? t('ioc.empty') : t('ioc.empty.member'));
}

export async function renderOne(ctx) {
  const { main, params, coord } = ctx;
  if (!/^[0-9]{1,18}$/.test(params.id)) return notFound(main);
  let x;
  try {
    x = await get('/api/v1/indicators/' + params.id);
  } catch (e) {
    if (e.status === 404 || e.status === 403) return notFound(main);
    throw e;
  }
  const msg = msgArea('ioc-msg');
  const again = async (text) => { clear(main); await renderOne(ctx); if (text) main.querySelector('#ioc-msg').ok(text); };
  main.append(h('h1', null, t('ioc.one', { id: x.id }), ' ', istateBadge(x.state), ' ', tlpBadge(x.tlp)), msg);
  main.append(h('article', { class: 'panel' }, h('h2', { class: 'mono', id: 'ioc-value' }, x.value),
    h('dl', { class: 'facts' },
      [[t('ioc.type'), x.type], [t('ioc.confidence'), String(x.confidence)],
        [t('ioc.audience'), Array.isArray(x.audience) ? x.audience.join(', ') : label('audience', x.audience)],
        [t('ioc.description'), x.description || t('common.none')],
        x.source ? [t('ioc.source'), x.source + (x.source_name ? ' · ' + x.source_name : '')] : null,
        x.sample ? [t('ioc.sample'), h('a', { href: '#/samples/' + x.sample }, '#' + x.sample)] : null,
        [t('ioc.first_seen'), time(x.first_seen)], [t('ioc.last_seen'), time(x.last_seen)],
        [t('ioc.valid_until'), x.valid_until ? time(x.valid_until) : t('ioc.noexpiry')],
        [t('ioc.published'), time(x.published_at)],
        [t('ioc.feed'), x.feed ? t('ioc.feed.yes') : t('ioc.feed.no')],
      ].filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))));
  if (coord) {
    const acts = h('div', { class: 'actions panel' });
    if (x.state !== 'published')
      acts.append(h('button', { type: 'button', class: 'btn btn-primary', id: 'ioc-publish', onclick: async () => {
        try { await post(`/api/v1/indicators/${x.id}/publish`); await again(t('ioc.published.done')); } catch (ex) { msg.fail(ex); }
      } }, t('ioc.publish')));
    if (x.state === 'published' || x.state === 'candidate')
      acts.append(h('button', { type: 'button', class: 'btn', id: 'ioc-revoke', onclick: async () => {
        try { await post(`/api/v1/indicators/${x.id}/revoke`); await again(t('ioc.revoked.done')); } catch (ex) { msg.fail(ex); }
      } }, x.state === 'candidate' ? t('ioc.reject') : t('ioc.revoke')));
    main.append(acts);
  }
  const rh = x.retro_hunt;
  if (rh) main.append(h('section', { class: 'panel', 'aria-labelledby': 'rh-h', id: 'ioc-retro' }, h('h2', { id: 'rh-h' }, t('ioc.retro')),
    h('dl', { class: 'facts' },
      h('dt', null, t('ioc.retro.state')), h('dd', { id: 'ioc-retro-state' }, retroState(rh.state)),
      h('dt', null, t('ioc.retro.hits')), h('dd', { id: 'ioc-retro-hits' }, num(rh.hits)),
      h('dt', null, t('ioc.retro.batches')), h('dd', null, t('ioc.retro.batches.text', { scanned: num(rh.batches_scanned), read: num(rh.batches_read), ms: num(rh.ms) })))));
  const evs = x.events || [];
  if (evs.length) main.append(h('section', { class: 'panel', 'aria-labelledby': 'ie-h' }, h('h2', { id: 'ie-h' }, t('ioc.events')),
    h('p', null, evs.map((id, i) => [i ? ', ' : '', h('a', { href: '#/events/' + id }, '#' + id)]))));
  const s = x.recent_sightings || [];
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'is-h', id: 'ioc-sightings' }, h('h2', { id: 'is-h' }, t('ioc.sightings')),
    s.length ? h('div', { class: 'table-wrap' }, table(t('ioc.sightings'), [
      coord ? { label: t('common.member'), cell: (y) => String(y.member) } : null,
      { label: t('ioc.s.kind'), cell: (y) => label('skind', y.kind) },
      { label: t('ioc.s.record_time'), cell: (y) => time(y.record_time) },
      { label: t('ioc.s.at'), cell: (y) => time(y.at) },
      { label: t('ioc.s.field'), cls: 'mono', cell: (y) => y.field || '' },
    ].filter(Boolean), s)) : empty(t('ioc.nosightings'))));
}

function refusedList(list) {
  return h('ul', { class: 'refused', id: 'ioc-refused' }, list.map((r) => h('li', null,
    h('span', { class: 'mono' }, r.value || r.where || ''), ' — ', r.reason || '')));
}

export async function renderAdd(ctx) {
  const { main } = ctx;
  main.append(h('h1', null, t('ioc.add')), h('p', { class: 'muted' }, t('ioc.add.intro')));
  const msg = msgArea('ioc-msg');
  const out = h('div', { id: 'ioc-result' });
  const value = input('ioc-val', { required: true });
  const type = options('ioc-type', TYPES.map((x) => ({ value: x, name: x })), '', t('ioc.type.guess'));
  const tlp = options('ioc-tlp', TLPS.map((x) => ({ value: x, name: 'TLP:' + x })), 'AMBER');
  const conf = input('ioc-conf', { type: 'number', min: 0, max: 100, value: 50 });
  const desc = input('ioc-desc');
  const publish = h('input', { type: 'checkbox', id: 'ioc-publish-now' });
  const force = h('input', { type: 'checkbox', id: 'ioc-force' });
  main.append(h('form', { class: 'panel stack', id: 'ioc-add', onsubmit: async (e) => {
    e.preventDefault();
    msg.reset(); clear(out);
    const b = { value: value.value.trim(), tlp: tlp.value, confidence: Number(conf.value) };
    if (type.value) b.type = type.value;
    if (desc.value.trim()) b.description = desc.value.trim();
    if (publish.checked) b.publish = true;
    if (force.checked) b.force = true;
    // 422 (nothing added) carries the guard's reasons in the answer itself
    const res = await postKeep('/api/v1/indicators', b);
    if (res.status !== 200 && res.status !== 201 && res.status !== 422) {
      msg.fail({ status: res.status, message: (res.data && res.data.error) || String(res.status) });
      return;
    }
    const r = res.data || {};
    if ((r.added || []).length) {
      out.append(h('p', { class: 'msg msg-ok', role: 'status' }, t('ioc.added'), ' ',
        r.added.map((a, i) => [i ? ', ' : '', h('a', { href: '#/indicators/' + a.id }, a.value)])));
    }
    if ((r.refused || []).length) out.append(h('div', { class: 'msg msg-error', role: 'alert' }, h('p', null, t('ioc.refused')), refusedList(r.refused),
      h('p', null, t('ioc.force.hint'))));
  } },
  field('ioc-val', t('ioc.value'), value), field('ioc-type', t('ioc.type'), type), field('ioc-tlp', t('ioc.tlp'), tlp),
  field('ioc-conf', t('ioc.confidence'), conf), field('ioc-desc', t('ioc.description'), desc),
  h('label', { class: 'check' }, publish, ' ', t('ioc.publish.now')),
  h('label', { class: 'check' }, force, ' ', t('ioc.force')),
  msg, out, h('div', null, h('button', { type: 'submit', class: 'btn btn-primary', id: 'ioc-add-send' }, t('common.save')))));
}

// A POST whose refusal answer is wanted as data (not thrown away as an error).
async function postKeep(path, body) {
  const r = await fetch(path, { method: 'POST', credentials: 'same-origin', cache: 'no-store',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': cookieCsrf() },
    body: JSON.stringify(body) });
  let data = null;
  try { data = await r.json(); } catch (_) { /* not JSON */ }
  return { status: r.status, data };
}

export async function renderImport(ctx) {
  const { main } = ctx;
  main.append(h('h1', null, t('ioc.import')), h('p', { class: 'muted' }, t('ioc.import.intro')));
  const msg = msgArea('ioc-msg');
  const out = h('div', { id: 'ioc-import-result' });
  const file = h('input', { type: 'file', id: 'imp-file', required: true });
  const fmt = options('imp-format', ['stix', 'misp', 'csv', 'plain'].map((x) => ({ value: x, name: label('iocfmt', x) })), 'stix');
  const tlp = options('imp-tlp', TLPS.map((x) => ({ value: x, name: 'TLP:' + x })), 'AMBER');
  const publish = h('input', { type: 'checkbox', id: 'imp-publish' });
  main.append(h('form', { class: 'panel stack', id: 'ioc-import', onsubmit: async (e) => {
    e.preventDefault();
    msg.reset(); clear(out);
    const f = file.files && file.files[0];
    if (!f) { msg.fail({ message: t('ioc.import.nofile') }); return; }
    let r;
    try {
      r = await api('POST', '/api/v1/indicators/import' + qs({ format: fmt.value, tlp: tlp.value, publish: publish.checked ? 1 : '' }), f);
    } catch (ex) { msg.fail(ex); return; }
    out.append(h('div', { class: 'table-wrap' }, table(t('ioc.import.counts'), [
      { label: t('ioc.import.count'), cell: (x) => label('impcount', x[0]) },
      { label: '#', num: true, cell: (x) => num(x[1]) },
    ], ['objects', 'items', 'added', 'merged', 'published', 'duplicates', 'skipped', 'expired'].map((k) => [k, r[k] || 0])
      .concat([['rejected', r.rejected_count ?? (r.rejected || []).length], ['refused', r.refused_count ?? (r.refused || []).length]]), { cls: 'import-counts', showCaption: true })));
    if ((r.rejected || []).length) out.append(h('section', { class: 'panel', id: 'imp-rejected' }, h('h2', null, t('ioc.import.rejected')),
      h('ul', null, r.rejected.map((x) => h('li', null, h('strong', null, x.where || ''), ' — ', x.reason || '')))));
    if ((r.refused || []).length) out.append(h('section', { class: 'panel' }, h('h2', null, t('ioc.refused')), refusedList(r.refused)));
  } },
  field('imp-file', t('ioc.import.file'), file), field('imp-format', t('ioc.import.format'), fmt),
  field('imp-tlp', t('ioc.import.tlp'), tlp), h('label', { class: 'check' }, publish, ' ', t('ioc.publish.now')),
  msg, h('div', null, h('button', { type: 'submit', class: 'btn btn-primary', id: 'imp-send' }, t('ioc.import.send'))), out));
}
