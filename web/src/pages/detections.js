// Detections of the member (the server scopes them), with their verdicts.
import { h, table, empty } from '../dom.js';
import { get, qs } from '../api.js';
import { t, label } from '../i18n/index.js';
import { time } from '../fmt.js';

export async function render(ctx) {
  const { main } = ctx;
  main.append(h('h1', null, t('det.title')));
  const r = await get('/api/v1/detections' + qs({ limit: 200 }));
  const list = r.detections || [];
  if (!list.length) { main.append(empty(t('det.empty'))); return; }
  main.append(h('div', { class: 'table-wrap' }, table(t('det.title'), [
    { label: t('det.col.time'), cell: (d) => time(d.ts) },
    { label: t('det.col.class'), cell: (d) => label('ac', d.attack_class) },
    { label: t('det.col.rule'), cell: (d) => d.rule_name || d.rule_id },
    { label: t('det.col.src'), cls: 'mono', cell: (d) => (d.record && d.record.src_ip) || t('common.none') },
    { label: t('det.col.dst'), cls: 'mono', cell: (d) => (d.record && (d.record.dst_ip || d.record['http.host'])) || t('common.none') },
    { label: t('det.col.noise'), cell: (d) => label('noise', d.noise) },
    { label: t('det.col.event'), cell: (d) => (d.event_id ? h('a', { href: '#/events/' + d.event_id }, '#' + d.event_id) : t('common.none')) },
  ], list)));
}
