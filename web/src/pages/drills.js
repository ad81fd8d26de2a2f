// Reachability drills: the coordinator starts one with a deadline and reads the report
// (answered / late / silent / waiting); each contact point answers once, before the
// deadline, with one button.
import { h, table, empty, clear } from '../dom.js';
import { get, post } from '../api.js';
import { t, label } from '../i18n/index.js';
import { time, localInputToIso, isoToLocalInput } from '../fmt.js';
import { flash } from '../flash.js';
import { notFound } from './event.js';
import { field, input, msgArea } from './share_util.js';

function stateBadge(s) {
  return h('span', { class: 'badge dstate-' + s }, label('dstate', s));
}

export async function renderList(ctx) {
  const { main, coord } = ctx;
  main.append(h('h1', null, t('drills.title')), h('p', { class: 'muted' }, t(coord ? 'drills.intro.coord' : 'drills.intro')));
  const msg = msgArea('drill-msg');
  main.append(msg);
  const r = await get('/api/v1/drills');
  const list = r.drills || [];
  if (coord) {
    main.append(list.length ? h('div', { class: 'table-wrap' }, table(t('drills.title'), [
      { label: t('common.id'), num: true, cell: (d) => String(d.id) },
      { label: t('drills.f.title'), cell: (d) => h('a', { href: '#/drills/' + d.id }, d.title) },
      { label: t('drills.started'), cell: (d) => time(d.started) },
      { label: t('drills.deadline'), cell: (d) => time(d.deadline) },
      { label: t('drills.answered'), cell: (d) => t('drills.of', { n: d.answered, m: d.contacts }) },
    ], list, { cls: 'drills' })) : empty(t('drills.empty.coord')));
    const title = input('dr-title', { required: true, maxlength: 200 });
    const dl = new Date(Date.now() + 3 * 86400 * 1000);
    const deadline = input('dr-deadline', { type: 'datetime-local', required: true, value: isoToLocalInput(dl.toISOString()) });
    main.append(h('form', { class: 'panel stack', id: 'drill-form', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const d = await post('/api/v1/drills', { title: title.value.trim(), deadline: localInputToIso(deadline.value), contacts: 'all' });
        flash('ok', t('drills.started.done', { id: d.id }));
        location.hash = '#/drills/' + d.id;
      } catch (ex) { msg.fail(ex); }
    } }, h('h2', null, t('drills.start')), h('p', { class: 'muted' }, t('drills.start.hint')),
    field('dr-title', t('drills.f.title'), title), field('dr-deadline', t('drills.deadline'), deadline),
    h('div', null, h('button', { type: 'submit', class: 'btn btn-primary', id: 'dr-start' }, t('drills.start.button')))));
    return;
  }
  if (!list.length) { main.append(empty(t('drills.empty'))); return; }
  const now = Date.now();
  main.append(h('div', { class: 'table-wrap' }, table(t('drills.title'), [
    { label: t('drills.f.title'), cell: (d) => d.title },
    { label: t('drills.deadline'), cell: (d) => time(d.deadline) },
    { label: t('drills.your'), cell: (d) => {
      if (d.your_answer) return t('drills.answered.at', { time: time(d.your_answer) });
      if (new Date(d.deadline).getTime() < now) return t('drills.closed');
      return h('button', { type: 'button', class: 'btn btn-primary btn-small', id: 'drill-answer-' + d.id, onclick: async (e) => {
        e.target.disabled = true;
        try {
          await post(`/api/v1/drills/${d.id}/answer`);
          clear(main);
          await renderList(ctx);
          main.querySelector('#drill-msg').ok(t('drills.answer.done'));
        } catch (ex) { msg.fail(ex); e.target.disabled = false; }
      } }, t('drills.answer'));
    } },
  ], list, { cls: 'drills' })));
}

export async function renderReport(ctx) {
  const { main, params } = ctx;
  if (!/^[0-9]{1,18}$/.test(params.id)) return notFound(main);
  let d;
  try {
    d = await get(`/api/v1/drills/${params.id}/report`);
  } catch (e) {
    if (e.status === 404 || e.status === 403) return notFound(main);
    throw e;
  }
  const s = d.summary || {};
  main.append(h('h1', null, t('drills.report', { id: d.id })),
    h('article', { class: 'panel' }, h('h2', null, d.title),
      h('dl', { class: 'facts' },
        h('dt', null, t('drills.started')), h('dd', null, time(d.started)),
        h('dt', null, t('drills.deadline')), h('dd', null, time(d.deadline)),
        h('dt', null, t('drills.summary')), h('dd', { id: 'drill-summary' },
          t('drills.summary.text', { contacts: s.contacts, answered: s.answered, late: s.late, none: s.no_answer })))),
    h('div', { class: 'table-wrap' }, table(t('drills.contacts'), [
      { label: t('drills.contact'), cell: (c) => c.name },
      { label: t('drills.contact.kind'), cell: (c) => label('orgkind', c.kind) },
      { label: t('drills.state'), cell: (c) => stateBadge(c.state) },
      { label: t('drills.answered'), cell: (c) => (c.answered ? time(c.answered) + ' · ' + (c.answered_by || '') : t('common.none')) },
      { label: t('drills.late'), cell: (c) => (c.late_attempt ? time(c.late_attempt) + ' · ' + (c.late_by || '') : t('common.none')) },
    ], d.contacts || [], { cls: 'drill-report', showCaption: true })));
}
