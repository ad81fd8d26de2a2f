// Notice lists: the inbox (scoped; a member sees its own) and the overdue list.
import { h, table, empty } from '../dom.js';
import { get } from '../api.js';
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
  const r = await get('/api/v1/notices');
  const list = r.notices || [];
  main.append(list.length ? h('div', { class: 'table-wrap' }, noticeTable(list, coord))
    : empty(coord ? t('notices.empty') : t('notices.empty.member')));
}

export async function renderOverdue(ctx) {
  const { main } = ctx;
  main.append(h('h1', null, t('overdue.title')), h('p', { class: 'muted' }, t('overdue.intro')));
  const r = await get('/api/v1/notices/overdue');
  const list = r.notices || [];
  main.append(list.length ? h('div', { class: 'table-wrap' }, noticeTable(list, true)) : empty(t('overdue.empty')));
}
