// Fiscal-year statistics in the national annual report's layout: the four previous
// fiscal years, then 1Q-4Q and the total of the chosen one (April-March, Japan time),
// one row per count of docs/incidents.md "Statistics"; the same table as CSV.
import { h } from '../dom.js';
import { get, qs } from '../api.js';
import { t, getLang } from '../i18n/index.js';
import { num } from '../fmt.js';
import { fyNow } from './incidents.js';
import { field, options } from './share_util.js';

export async function render(ctx) {
  const { main, query } = ctx;
  const now = fyNow();
  const fy = Number(query.get('fy')) || now;
  main.append(h('h1', null, t('stats.title')), h('p', { class: 'muted' }, t('stats.intro')));
  const years = [];
  for (let y = now + 1; y >= Math.min(2019, fy); y--) years.push({ value: y, name: t('stats.fy', { fy: y }) });
  const form = h('form', { class: 'filters', 'aria-label': t('stats.choose'), onsubmit: (e) => {
    e.preventDefault();
    location.hash = '#/stats' + qs({ fy: form.querySelector('#st-fy').value });
  } }, field('st-fy', t('stats.choose'), options('st-fy', years, fy)),
  h('div', { class: 'field field-buttons' },
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'st-apply' }, t('common.apply')),
    h('a', { class: 'btn', id: 'st-csv', href: '/api/v1/stats/incidents' + qs({ fy, format: 'csv', for: 'spreadsheet' }), download: `incidents-fy${fy}.csv`,
      title: t('common.csv.title', { chart: t('stats.title') }) }, t('common.csv'))));
  main.append(form);
  const r = await get('/api/v1/stats/incidents' + qs({ fy }));
  const ja = getLang() === 'ja';
  const head1 = h('tr', null,
    h('th', { scope: 'col', rowspan: 2 }, t('stats.row')),
    h('th', { scope: 'colgroup', colspan: 4 }, t('stats.previous')),
    h('th', { scope: 'colgroup', colspan: 5 }, t('stats.fy', { fy })));
  const cols = [fy - 4, fy - 3, fy - 2, fy - 1].map((y) => t('stats.fy', { fy: y }))
    .concat([1, 2, 3, 4].map((q) => t('stats.q', { q })), [t('stats.total')]);
  const head2 = h('tr', null, cols.map((c, i) => h('th', { scope: 'col', class: 'num' + (i === 4 || i === 8 ? ' sep' : '') }, c)));
  const body = h('tbody', null, (r.rows || []).map((row) => h('tr', { 'data-key': row.key, class: row.key.includes('.') ? 'sub' : 'head' },
    h('th', { scope: 'row' }, ja ? row.label_ja : row.label),
    row.values.map((v, i) => h('td', { class: 'num' + (i === 8 ? ' total' : '') }, num(v))))));
  main.append(h('div', { class: 'table-wrap' }, h('table', { class: 'grid stats', id: 'stats-table' },
    h('caption', null, t('stats.caption', { fy })), h('thead', null, head1, head2), body)));
  main.append(h('p', { class: 'muted small' }, t('stats.note')));
}
