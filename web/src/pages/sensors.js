// Sensors' health: last seen, records per minute, errors in the last hour, spool size.
import { h, table, empty } from '../dom.js';
import { get } from '../api.js';
import { t } from '../i18n/index.js';
import { num, ago, bytes, time } from '../fmt.js';

export async function render(ctx) {
  const { main, coord } = ctx;
  main.append(h('h1', null, t('sensors.title')), h('p', { class: 'muted' }, t('sensors.intro')));
  let r;
  try {
    r = await get('/api/v1/sensors');
  } catch (e) {
    if (e.status === 403) { main.append(empty(t('sensors.forbidden'))); return; }
    throw e;
  }
  const list = r.sensors || [];
  if (!list.length) { main.append(empty(t('sensors.empty'))); return; }
  const status = (x) => (x.revoked ? ['revoked', t('sensors.revoked')] : x.silent ? ['silent', t('sensors.silent')]
    : !x.last_seen ? ['silent', t('sensors.never')] : ['ok', t('sensors.ok')]);
  main.append(h('div', { class: 'table-wrap' }, table(t('sensors.title'), [
    coord ? { label: t('sensors.col.member'), cell: (x) => x.member } : null,
    { label: t('sensors.col.name'), cell: (x) => x.name },
    { label: t('sensors.col.status'), cell: (x) => { const [k, l] = status(x); return h('span', { class: 'badge health-' + k }, l); } },
    { label: t('sensors.col.last'), cell: (x) => h('span', { title: time(x.last_seen) }, ago(x.last_seen)) },
    { label: t('sensors.col.rpm'), num: true, cell: (x) => (x.records_per_min === undefined ? t('common.none') : num(Math.round(x.records_per_min * 10) / 10)) },
    { label: t('sensors.col.errors'), num: true, cell: (x) => num(x.errors === undefined ? x.rejected : x.errors) },
    { label: t('sensors.col.spool'), num: true, cell: (x) => bytes(x.spool_bytes) },
    { label: t('sensors.col.records'), num: true, cell: (x) => num(x.records) },
  ].filter(Boolean), list)));
}
