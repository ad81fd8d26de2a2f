// One notice: its text, events, answers and attachments. The member acknowledges,
// answers and attaches files; the coordinator closes it and sees the deliveries.
import { h, table, empty, clear } from '../dom.js';
import { get, post, api } from '../api.js';
import { t, label } from '../i18n/index.js';
import { time, bytes } from '../fmt.js';
import { notFound } from './event.js';

const MAX_ATTACH = 5 * 1024 * 1024;

export async function render(ctx) {
  const { main, params, coord } = ctx;
  if (!/^[0-9]{1,18}$/.test(params.id)) return notFound(main);
  let n;
  try {
    n = await get('/api/v1/notices/' + params.id);
  } catch (e) {
    if (e.status === 404 || e.status === 403) return notFound(main);
    throw e;
  }
  const msg = h('div', { id: 'notice-msg' });
  const rerender = async (text) => {
    clear(main);
    await render(ctx);
    if (text) main.querySelector('#notice-msg').append(h('p', { class: 'msg msg-ok', role: 'status' }, text));
  };
  const fail = (e) => { clear(msg); msg.append(h('p', { class: 'msg msg-error', role: 'alert' }, e.status === 403 ? t('common.forbidden') : e.message)); };

  main.append(h('h1', null, t('notice.title', { id: n.id }), ' ', h('span', { class: 'badge nstate-' + n.state }, label('nstate', n.state))), msg);
  main.append(h('article', { class: 'panel notice-body', lang: n.lang || null, 'aria-labelledby': 'notice-title' },
    h('h2', { id: 'notice-title' }, n.title),
    h('dl', { class: 'facts' },
      coord ? [h('dt', null, t('common.member')), h('dd', null, n.member)] : null,
      h('dt', null, t('notice.sent')), h('dd', null, time(n.created)),
      h('dt', null, t('notice.answer_by')), h('dd', { class: n.overdue ? 'overdue' : null }, time(n.answer_by), n.overdue ? ' (' + t('notices.overdue') + ')' : ''),
      h('dt', null, t('notice.acked')), h('dd', null, n.acknowledged ? time(n.acknowledged) + ' · ' + (n.acknowledged_by || '') : t('common.none')),
      h('dt', null, t('notice.events')), h('dd', null, (n.events || []).map((id, i) => [i ? ', ' : '', h('a', { href: '#/events/' + id }, '#' + id)]))),
    h('h3', null, t('notice.what')), h('p', { class: 'prose' }, n.what || ''),
    h('h3', null, t('notice.why')), h('p', { class: 'prose' }, n.why || ''),
    h('h3', null, t('notice.action')), h('p', { class: 'prose' }, n.action || '')));

  // actions
  const acts = h('section', { class: 'panel', 'aria-labelledby': 'act-h' }, h('h2', { id: 'act-h' }, t('event.actions')));
  if (!coord && n.state === 'sent')
    acts.append(h('button', { type: 'button', class: 'btn btn-primary', id: 'notice-ack', onclick: async () => {
      try { await post(`/api/v1/notices/${n.id}/ack`); await rerender(t('notice.acked.done')); } catch (e) { fail(e); }
    } }, t('notice.ack')));
  if (n.state !== 'closed') {
    if (!coord) {
      const ta = h('textarea', { id: 'answer-text', rows: 4, required: true });
      acts.append(h('form', { class: 'stack', id: 'answer-form', onsubmit: async (e) => {
        e.preventDefault();
        if (!ta.value.trim()) { ta.focus(); return; }
        try { await post(`/api/v1/notices/${n.id}/answer`, { text: ta.value }); await rerender(t('notice.answer.done')); } catch (ex) { fail(ex); }
      } }, h('label', { for: 'answer-text' }, t('notice.answer')), ta,
      h('div', null, h('button', { type: 'submit', class: 'btn btn-primary', id: 'answer-send' }, t('notice.answer.send')))));
    }
    const file = h('input', { type: 'file', id: 'attach-file' });
    acts.append(h('form', { class: 'stack', id: 'attach-form', onsubmit: async (e) => {
      e.preventDefault();
      const f = file.files && file.files[0];
      if (!f) { fail({ message: t('notice.attach.none') }); return; }
      if (f.size > MAX_ATTACH) { fail({ message: t('notice.attach.big') }); return; }
      try {
        await api('POST', `/api/v1/notices/${n.id}/attachments?name=` + encodeURIComponent(f.name), f);
        await rerender(t('notice.attach.done'));
      } catch (ex) { fail(ex); }
    } }, h('label', { for: 'attach-file' }, t('notice.attach')), file,
    h('div', null, h('button', { type: 'submit', class: 'btn', id: 'attach-send' }, t('notice.attach.send')))));
    if (coord)
      acts.append(h('button', { type: 'button', class: 'btn', id: 'notice-close', onclick: async () => {
        try { await post(`/api/v1/notices/${n.id}/close`); await rerender(t('common.done')); } catch (e) { fail(e); }
      } }, t('notice.close')));
    main.append(acts);
  }

  // answers
  const ans = n.answers || [];
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'ans-h', id: 'answers' }, h('h2', { id: 'ans-h' }, t('notice.answers')),
    ans.length ? h('ol', { class: 'answers' }, ans.map((a) => h('li', null,
      h('div', { class: 'meta' }, time(a.at), ' · ', a.by || ''), h('p', { class: 'prose' }, a.text || '')))) : empty(t('notice.noanswers'))));

  // attachments
  let att = n.attachments;
  if (!att) {
    try { att = (await get(`/api/v1/notices/${n.id}/attachments`)).attachments || []; } catch (_) { att = []; }
  }
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'att-h', id: 'attachments' }, h('h2', { id: 'att-h' }, t('notice.attachments')),
    att.length ? h('ul', { class: 'files' }, att.map((a) => h('li', null,
      h('a', { href: '/api/v1/attachments/' + a.id, download: a.name }, a.name), ' ',
      h('span', { class: 'muted' }, bytes(a.size) + ' · ' + time(a.created) + ' · ' + (a.created_by || '')),
      h('div', { class: 'mono muted small' }, 'SHA-256 ' + (a.sha256 || ''))))) : empty(t('notice.noattachments'))));

  // history and deliveries
  const hist = n.history || [];
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'nh-h' }, h('h2', { id: 'nh-h' }, t('notice.history')),
    hist.length ? h('ol', { class: 'history' }, hist.map((x) => h('li', null, h('time', null, time(x.at)), ' ', h('strong', null, x.actor || ''), ' ', x.change || '')))
      : empty(t('event.nohistory'))));
  if (coord) {
    try {
      const d = await get(`/api/v1/notices/${n.id}/deliveries`);
      const dl = d.deliveries || [];
      if (dl.length)
        main.append(h('section', { class: 'panel', 'aria-labelledby': 'dl-h' }, h('h2', { id: 'dl-h' }, t('notice.deliveries')),
          table(t('notice.deliveries'), [
            { label: 'channel', cell: (x) => x.channel },
            { label: t('notice.state'), cell: (x) => x.state },
            { label: '#', num: true, cell: (x) => String(x.attempts) },
            { label: 'next', cell: (x) => time(x.next_try) },
          ], dl)));
    } catch (_) { /* deliveries are optional detail */ }
  }
}
