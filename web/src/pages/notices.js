// Notice lists: the inbox (scoped; a member sees its own) and the overdue list.
import { h, table, empty } from '../dom.js';
import { get, qs } from '../api.js';
import { t, label } from '../i18n/index.js';
import { time } from '../fmt.js';

export function noticeTable(list, coord) {
  return table(t('notices.title'), [
    { label: t('notices.col.id'), num: true, cell: (n) => String(n.id) },
    { label: t('notices.col.title'), cell: (n) => h('a', { href: '#/notices/' + n.id }, n.title) },
    coord ? { label: t('notices.col.member'), cell: (n) => n.member } : null,
    { label: t('notices.col.state'), cell: (n) => h('span', { class: 'badge nstate-' + n.state }, label('nstate', n.state)) },
    { label: t('notices.col.created'), cell: (n) => time(n.created) },
    { label: t('notices.col.answer_by'), cell: (n) => h('span', { class: n.overdue ? 'overdue' : null }, time(n.answer_by),
      n.overdue ? ' (' + t('notices.overdue') + ')' : '') },
  ].filter(Boolean), list, { cls: 'notices' });
}

export async function render(ctx) {
  const { main, coord, session } = ctx;
  main.append(h('h1', null, coord || !session.member ? t('notices.title') : t('notices.portal.title', { member: session.member })));
  await paged(main, '/api/v1/notices', coord, coord ? t('notices.empty') : t('notices.empty.member'));
}

// Pages of 100 (the API's cursor is next_after), "Show more" for the next one.
async function paged(main, path, coord, emptyText) {
  const LIMIT = 100;
  const r = await get(path + qs({ limit: LIMIT }));
  const list = r.notices || [];
  if (!list.length) { main.append(empty(emptyText)); return; }
  const tbl = noticeTable(list, coord);
  main.append(h('div', { class: 'table-wrap' }, tbl));
  let after = list.length === LIMIT ? r.next_after : null;
  if (!after) return;
  const more = h('button', { type: 'button', class: 'btn', onclick: async () => {
    const p = await get(path + qs({ limit: LIMIT, after }));
    const rows = p.notices || [];
    tbl.querySelector('tbody').append(...noticeTable(rows, coord).querySelector('tbody').children);
    after = rows.length === LIMIT ? p.next_after : null;
    if (!after) more.remove();
  } }, t('common.more'));
  main.append(more);
}

export async function renderOverdue(ctx) {
  const { main } = ctx;
  main.append(h('h1', null, t('overdue.title')), h('p', { class: 'muted' }, t('overdue.intro')));
  await paged(main, '/api/v1/notices/overdue', true, t('overdue.empty'));
}
