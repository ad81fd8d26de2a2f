// The notice composer: events of one member (under investigation) + a template in
// Japanese or English; fields left empty take the template's text, filled by the
// center from the events. POST /api/v1/notices.
import { h, clear } from '../dom.js';
import { get, post } from '../api.js';
import { t, getLang } from '../i18n/index.js';
import { localInputToIso, isoToLocalInput } from '../fmt.js';
import { members } from './events.js';
import { flash } from '../flash.js';

export async function render(ctx) {
  const { main, query } = ctx;
  main.append(h('h1', null, t('compose.title')), h('p', { class: 'muted' }, t('compose.intro')));
  const [mlist, tpls] = await Promise.all([members(), get('/api/v1/notice-templates').then((r) => r.templates || [], () => [])]);
  const ids = [...new Set(tpls.map((x) => x.id))];
  const err = h('div', { id: 'compose-msg' });
  const member = h('input', { id: 'c-member', list: 'c-members', value: query.get('member') || '', autocomplete: 'off', required: true });
  const dlist = h('datalist', { id: 'c-members' }, mlist.map((m) => h('option', { value: m.value })));
  const events = h('input', { id: 'c-events', value: query.get('events') || '', inputmode: 'numeric', autocomplete: 'off', required: true });
  const tpl = h('select', { id: 'c-template' }, h('option', { value: '' }, t('compose.template.none')),
    ids.map((id) => h('option', { value: id, selected: id === query.get('template') }, (tpls.find((x) => x.id === id && x.lang === getLang()) || tpls.find((x) => x.id === id)).name)));
  const lang = h('select', { id: 'c-lang' }, h('option', { value: 'ja', selected: getLang() === 'ja' }, '日本語'), h('option', { value: 'en', selected: getLang() === 'en' }, 'English'));
  const title = h('input', { id: 'c-title', autocomplete: 'off' });
  const what = h('textarea', { id: 'c-what', rows: 3 });
  const why = h('textarea', { id: 'c-why', rows: 3 });
  const action = h('textarea', { id: 'c-action', rows: 4 });
  const by = h('input', { id: 'c-answer-by', type: 'datetime-local', required: true, value: isoToLocalInput(new Date(Date.now() + 3 * 86400e3).toISOString()) });
  const preview = h('div', { class: 'tpl-preview', id: 'c-preview', 'aria-live': 'polite' });
  const hint = h('p', { class: 'muted small', id: 'c-hint' });

  function showPreview() {
    clear(preview);
    const x = tpls.find((p) => p.id === tpl.value && p.lang === lang.value);
    hint.textContent = x ? t('compose.fromtpl') : '';
    if (!x) return;
    preview.setAttribute('lang', x.lang);
    preview.append(h('h2', null, t('compose.preview')),
      h('p', { class: 'prose' }, h('strong', null, x.title)),
      h('p', { class: 'prose' }, x.what), h('p', { class: 'prose' }, x.why), h('p', { class: 'prose' }, x.action));
  }
  tpl.addEventListener('change', showPreview);
  lang.addEventListener('change', showPreview);

  const f = (id, lbl, el) => h('div', { class: 'field' }, h('label', { for: id }, lbl), el);
  const form = h('form', { class: 'compose', id: 'compose', onsubmit: async (e) => {
    e.preventDefault();
    clear(err);
    const evIds = events.value.split(/[\s,]+/).filter(Boolean).map(Number);
    if (!member.value.trim() || !evIds.length || evIds.some((x) => !Number.isInteger(x) || x <= 0) || (!tpl.value && !title.value.trim())) {
      err.append(h('p', { class: 'msg msg-error', role: 'alert' }, t('compose.need')));
      return;
    }
    const body = { member: member.value.trim(), events: evIds, answer_by: localInputToIso(by.value) };
    if (tpl.value) { body.template = tpl.value; body.lang = lang.value; }
    for (const [k, el] of [['title', title], ['what', what], ['why', why], ['action', action]])
      if (el.value.trim()) body[k] = el.value;
    try {
      const r = await post('/api/v1/notices', body);
      flash('ok', t('compose.sent', { id: r.id }));
      location.hash = '#/notices/' + r.id;
    } catch (ex) {
      err.append(h('p', { class: 'msg msg-error', role: 'alert' }, ex.status === 403 ? t('common.forbidden') : ex.message));
    }
  } },
  h('div', { class: 'grid2' },
    f('c-member', t('compose.member'), [member, dlist]),
    f('c-events', t('compose.events'), events),
    f('c-template', t('compose.template'), tpl),
    f('c-lang', t('compose.lang'), lang),
    f('c-answer-by', t('compose.answer_by'), by)),
  hint,
  f('c-title', t('compose.ntitle'), title),
  f('c-what', t('compose.what'), what),
  f('c-why', t('compose.why'), why),
  f('c-action', t('compose.action'), action),
  err,
  h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'c-send' }, t('compose.send'))));
  main.append(h('div', { class: 'compose-wrap' }, form, preview));
  showPreview();
}
