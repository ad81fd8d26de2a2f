// Campaigns across members: one (attack class, source) seen at two or more members.
import { h, table, empty } from '../dom.js';
import { get } from '../api.js';
import { t, label } from '../i18n/index.js';
import { num } from '../fmt.js';

export async function render(ctx) {
  const { main } = ctx;
  main.append(h('h1', null, t('camp.title')), h('p', { class: 'muted' }, t('camp.intro')));
  const r = await get('/api/v1/campaigns');
  const list = r.campaigns || [];
  if (!list.length) { main.append(empty(t('camp.empty'))); return; }
  main.append(h('div', { class: 'table-wrap' }, table(t('camp.title'), [
    { label: t('camp.col.class'), cell: (c) => label('ac', c.attack_class) },
    { label: t('camp.col.source'), cls: 'mono', cell: (c) => h('a', { href: '#/events?q=' + encodeURIComponent(c.source) }, c.source) },
    { label: t('camp.col.members'), num: true, cell: (c) => num(c.members) },
    { label: t('camp.col.events'), cell: (c) => (c.event_ids || []).map((id, i) => [i ? ', ' : '', h('a', { href: '#/events/' + id }, '#' + id)]) },
  ], list)));
}
