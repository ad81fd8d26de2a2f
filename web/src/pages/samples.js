// Suspicious e-mails and files (docs/indicators.md "Samples"): a member uploads one, the
// center analyses it at once and answers the report and the indicator candidates (the
// member's own addresses kept back, the guard's refusals with reasons). The coordinator
// sees every sample and publishes candidates from here.
import { h, table, empty, clear } from '../dom.js';
import { get, post, api, qs } from '../api.js';
import { t, label } from '../i18n/index.js';
import { time, bytes } from '../fmt.js';
import { flash } from '../flash.js';
import { notFound } from './event.js';
import { istateBadge } from './indicators.js';
import { field, msgArea } from './share_util.js';

const MAX_SAMPLE = 5 * 1024 * 1024;

export async function renderList(ctx) {
  const { main, coord } = ctx;
  main.append(h('h1', null, t('samples.title')), h('p', { class: 'muted' }, t(coord ? 'samples.intro.coord' : 'samples.intro')));
  const msg = msgArea('sample-msg');
  const file = h('input', { type: 'file', id: 'sample-file', accept: '.eml,message/rfc822,*/*' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary', id: 'sample-send' }, t('samples.send'));
  main.append(h('form', { class: 'panel stack', id: 'sample-form', onsubmit: async (e) => {
    e.preventDefault();
    msg.reset();
    const f = file.files && file.files[0];
    if (!f) { msg.fail({ message: t('samples.nofile') }); return; }
    if (f.size > MAX_SAMPLE) { msg.fail({ message: t('samples.big') }); return; }
    send.disabled = true;
    try {
      const r = await api('POST', '/api/v1/samples' + qs({ name: f.name }), f);
      flash('ok', t('samples.done', { n: (r.candidates || []).length }));
      location.hash = '#/samples/' + r.id;
    } catch (ex) {
      msg.fail(ex.status === 503 ? { message: t('samples.busy') } : ex);
      send.disabled = false;
    }
  } }, h('h2', null, t('samples.submit')), h('p', { class: 'muted' }, t('samples.submit.hint')),
  field('sample-file', t('samples.file'), file), msg, h('div', null, send)));
  const r = await get('/api/v1/samples');
  const list = r.samples || [];
  main.append(h('h2', null, t(coord ? 'samples.all' : 'samples.yours')));
  main.append(list.length ? h('div', { class: 'table-wrap' }, table(t('samples.title'), [
    { label: t('common.id'), num: true, cell: (x) => String(x.id) },
    { label: t('samples.name'), cell: (x) => h('a', { href: '#/samples/' + x.id }, x.name || '#' + x.id) },
    { label: t('samples.kind'), cell: (x) => label('skindf', x.kind) },
    coord ? { label: t('common.member'), cell: (x) => String(x.member) } : null,
    { label: t('samples.submitter'), cell: (x) => x.submitter || t('common.none') },
    { label: t('samples.size'), num: true, cell: (x) => bytes(x.size) },
    { label: t('samples.received'), cell: (x) => time(x.received) },
  ].filter(Boolean), list, { cls: 'samples' })) : empty(t('samples.empty')));
}

function candState(c, live) {
  if (c.skipped) return h('span', null, h('span', { class: 'badge cand-skipped' }, t('samples.c.skipped')), ' ', c.skipped);
  if (c.refused) return h('span', null, h('span', { class: 'badge cand-refused' }, t('samples.c.refused')), ' ', c.refused);
  const st = (live && live.state) || c.state;
  return st ? istateBadge(st) : t('common.none');
}

export async function renderOne(ctx) {
  const { main, params, coord } = ctx;
  if (!/^[0-9]{1,18}$/.test(params.id)) return notFound(main);
  let s;
  try {
    s = await get('/api/v1/samples/' + params.id);
  } catch (e) {
    if (e.status === 404 || e.status === 403) return notFound(main);
    throw e;
  }
  const msg = msgArea('sample-msg');
  const again = async (text) => { clear(main); await renderOne(ctx); if (text) main.querySelector('#sample-msg').ok(text); };
  main.append(h('h1', null, t('samples.one', { id: s.id })), msg);
  main.append(h('article', { class: 'panel' }, h('h2', { id: 'sample-name' }, s.name || '#' + s.id),
    h('dl', { class: 'facts' },
      h('dt', null, t('samples.kind')), h('dd', null, label('skindf', s.kind)),
      h('dt', null, t('samples.size')), h('dd', null, bytes(s.size)),
      h('dt', null, 'SHA-256'), h('dd', { class: 'mono small' }, s.sha256 || ''),
      h('dt', null, t('samples.submitter')), h('dd', null, s.submitter || t('common.none')),
      h('dt', null, t('samples.received')), h('dd', null, time(s.received)))));

  // the candidates, with the live state of their indicators for the coordinator
  const cands = s.candidates || [];
  const live = {};
  if (coord) await Promise.all(cands.filter((c) => c.indicator).map(async (c) => {
    try { live[c.indicator] = await get('/api/v1/indicators/' + c.indicator); } catch (_) { /* gone */ }
  }));
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'sc-h', id: 'sample-candidates' }, h('h2', { id: 'sc-h' }, t('samples.candidates')),
    h('p', { class: 'muted' }, t(coord ? 'samples.candidates.coord' : 'samples.candidates.member')),
    cands.length ? h('div', { class: 'table-wrap' }, table(t('samples.candidates'), [
      { label: t('ioc.type'), cell: (c) => c.type },
      { label: t('ioc.value'), cls: 'mono', cell: (c) => (coord && c.indicator ? h('a', { href: '#/indicators/' + c.indicator }, c.value) : c.value) },
      { label: t('samples.c.where'), cell: (c) => [c.where || '', c.why ? ' — ' + c.why : ''] },
      { label: t('ioc.state'), cell: (c) => candState(c, live[c.indicator]) },
      coord ? { label: t('event.actions'), cell: (c) => {
        const st = live[c.indicator] && live[c.indicator].state;
        if (!c.indicator || st === 'published') return '';
        return h('button', { type: 'button', class: 'btn btn-small', 'data-publish': c.indicator, onclick: async () => {
          try { await post(`/api/v1/indicators/${c.indicator}/publish`); await again(t('ioc.published.done')); } catch (ex) { msg.fail(ex); }
        } }, t('ioc.publish'));
      } } : null,
    ].filter(Boolean), cands, { cls: 'candidates' })) : empty(t('samples.nocandidates'))));

  // the analyser's report: headers of each e-mail, URLs, addresses, findings
  const rep = s.report || {};
  const mails = rep.emails || [];
  const sec = h('section', { class: 'panel', 'aria-labelledby': 'sr-h', id: 'sample-report' }, h('h2', { id: 'sr-h' }, t('samples.report')));
  for (const m of mails) {
    const hd = m.headers || {};
    sec.append(h('dl', { class: 'facts' }, ['from', 'to', 'cc', 'subject', 'date', 'message_id', 'return_path', 'reply_to']
      .filter((k) => hd[k]).map((k) => [h('dt', null, label('hdr', k)), h('dd', { class: k === 'subject' ? null : 'mono small' }, hd[k])])));
  }
  const listOf = (key, items) => (items && items.length ? [h('h3', null, t(key)), h('ul', { class: 'mono small' }, items.map((u) => h('li', null, typeof u === 'string' ? u : JSON.stringify(u))))] : null);
  sec.append(...[listOf('samples.urls', rep.urls), listOf('samples.addresses', rep.addresses)].filter(Boolean).flat());
  const findings = rep.findings || [];
  sec.append(h('h3', null, t('samples.findings')), findings.length
    ? h('ul', null, findings.map((f) => h('li', null, typeof f === 'string' ? f : [f.severity ? '[' + f.severity + '] ' : '', f.what || f.reason || f.message || JSON.stringify(f)])))
    : empty(t('samples.nofindings')));
  main.append(sec);
}
