// The event page: summary, actions (coordinator), sources and targets, timeline, rules,
// sample records (raw line beside the parsed fields), detections (paged), history.
// Splitting (coordinator, an open event with two or more sources): the checked sources'
// detections move to a new event of the same member, which the page then shows.
// A member asking for another member's event gets the server's 404: "not found or not
// allowed", the same as for an event that does not exist.
import { h, table, empty } from '../dom.js';
import { get, post, qs } from '../api.js';
import { t, label } from '../i18n/index.js';
import { num, time } from '../fmt.js';
import { figure, groupedBars, fillBuckets, fmtTick, PALETTE } from '../charts.js';
import { assignDialog, stateDialog, mergeDialog } from '../dialogs.js';
import { sevBadge, stateBadge } from './events.js';

export function notFound(main) {
  main.append(h('h1', { id: 'not-found' }, t('common.notfound')),
    h('p', { class: 'empty', role: 'status' }, t('common.notfound.text')));
}

export async function render(ctx) {
  const { main, params, coord } = ctx;
  const id = params.id;
  if (!/^[0-9]{1,18}$/.test(id)) return notFound(main);
  let ev;
  try {
    ev = await get('/api/v1/events/' + id + qs({ det_limit: 50 }));
  } catch (e) {
    if (e.status === 404 || e.status === 403) return notFound(main);
    throw e;
  }
  main.append(h('h1', null, t('event.title', { id: ev.id }), ' ', sevBadge(ev.severity), ' ', stateBadge(ev.state)));

  const reload = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
  if (coord) {
    main.append(h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('event.actions') },
      h('button', { type: 'button', class: 'btn', id: 'act-assign', onclick: async () => { if (await assignDialog(ev)) reload(); } }, t('event.act.assign')),
      h('button', { type: 'button', class: 'btn', id: 'act-state', onclick: async () => { if (await stateDialog(ev)) reload(); } }, t('event.act.state')),
      h('button', { type: 'button', class: 'btn', id: 'act-merge', onclick: async () => { if (await mergeDialog(ev)) reload(); } }, t('event.act.merge')),
      canSplit(ev) ? h('button', { type: 'button', class: 'btn', id: 'act-split', onclick: async () => {
        const made = await splitDialog(ev);
        if (made) location.hash = '#/events/' + made.id;
      } }, t('event.act.split')) : null,
      h('a', { class: 'btn btn-primary', id: 'act-notice', href: '#/compose' + qs({ member: ev.member, events: ev.id }) }, t('event.act.notice'))));
  }

  const dl = (pairs) => h('dl', { class: 'facts' }, pairs.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  main.append(h('div', { class: 'cols' },
    h('section', { class: 'panel', 'aria-labelledby': 'sum-h' }, h('h2', { id: 'sum-h' }, t('event.summary')), dl([
      [t('event.member'), ev.member],
      [t('event.class'), label('ac', ev.attack_class)],
      [t('event.severity'), label('sev', ev.severity)],
      [t('event.state'), label('state', ev.state)],
      [t('event.assignee'), ev.assignee || t('event.unassigned')],
      [t('event.first'), time(ev.first_seen)],
      [t('event.last'), time(ev.last_seen)],
      [t('event.count'), num(ev.count)],
    ])),
    h('section', { class: 'panel', 'aria-labelledby': 'src-h' },
      h('h2', { id: 'src-h' }, t('event.sources'), ' ', h('span', { class: 'muted' }, '(' + num(ev.distinct_sources) + ')')),
      addrList(ev.sources),
      h('h2', { id: 'dst-h' }, t('event.targets'), ' ', h('span', { class: 'muted' }, '(' + num(ev.distinct_targets) + ')')),
      addrList(ev.targets))));

  // timeline
  const tl = (ev.timeline || []).map((p) => ({ t: p.t, value: p.count }));
  const pts = tl.length ? fillBuckets(tl, new Date(tl[0].t).getTime(), new Date(tl[tl.length - 1].t).getTime(), 'hour') : [];
  main.append(figure('event-timeline', t('event.timeline'), null,
    groupedBars(pts.map((p) => ({ label: fmtTick(new Date(p.t), 'hour'), values: [p.v] })),
      [{ name: t('chart.detections.series'), color: PALETTE[1] }], t('event.timeline'), 1280),
    table(t('event.timeline'), [{ label: 'UTC', cell: (p) => new Date(p.t).toISOString() },
      { label: t('chart.detections.series'), num: true, cell: (p) => num(p.v) }], pts)));

  // rules
  if (ev.rules && ev.rules.length)
    main.append(h('section', { class: 'panel', 'aria-labelledby': 'rules-h' }, h('h2', { id: 'rules-h' }, t('event.rules')),
      table(t('event.rules'), [
        { label: t('event.rule'), cell: (r) => h('span', null, r.rule_name, ' ', h('span', { class: 'muted mono' }, r.rule_id)) },
        { label: t('event.hits'), num: true, cell: (r) => num(r.count) },
      ], ev.rules)));

  // samples: raw line beside parsed fields
  const samples = h('section', { class: 'panel', 'aria-labelledby': 'samples-h', id: 'samples' },
    h('h2', { id: 'samples-h' }, t('event.samples')), h('p', { class: 'muted' }, t('event.samples.hint')));
  const sl = (ev.samples || []).filter((d) => d.record);
  if (!sl.length) samples.append(empty(t('event.nosamples')));
  sl.forEach((d, i) => samples.append(sample(d, i)));
  main.append(samples);

  // detections (paged)
  const dets = ev.detections && ev.detections.items ? ev.detections : { items: [], next: null };
  const dsec = h('section', { class: 'panel', 'aria-labelledby': 'det-h', id: 'detections' }, h('h2', { id: 'det-h' }, t('event.detections')));
  if (!dets.items.length) dsec.append(empty(t('event.nodet')));
  else {
    const tb = detTable(dets.items);
    dsec.append(h('div', { class: 'table-wrap' }, tb));
    let next = dets.next;
    if (next) {
      const more = h('button', { type: 'button', class: 'btn', onclick: async () => {
        const r = await get('/api/v1/events/' + id + qs({ det_limit: 50, det_after: next }));
        const page = r.detections || { items: [] };
        const rowsEl = detTable(page.items).querySelector('tbody').children;
        tb.querySelector('tbody').append(...rowsEl);
        next = page.next;
        if (!next) more.remove();
      } }, t('common.more'));
      dsec.append(more);
    }
  }
  main.append(dsec);

  // history
  const hist = ev.history || [];
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, t('event.history')),
    hist.length ? h('ol', { class: 'history' }, hist.map((x) => h('li', null, h('time', null, time(x.at || x.time)), ' ',
      h('strong', null, x.actor || ''), ' ', x.change || x.what || JSON.stringify(x)))) : empty(t('event.nohistory'))));
}

const OPEN = ['new', 'investigating', 'notified'];
function canSplit(ev) {
  return OPEN.includes(ev.state) && Array.isArray(ev.sources) && ev.sources.length >= 2;
}

// Choose the sources to split off, then confirm; resolves to the new event (the center's
// 201 answer) or null when cancelled. The center's refusal (409, 400) stays in the dialog.
function splitDialog(ev) {
  return new Promise((resolve) => {
    let made = null;
    const boxes = ev.sources.map((src, i) => h('input', { type: 'checkbox', id: 'split-src-' + i, name: 'split-src', value: String(src) }));
    const err = h('p', { class: 'msg msg-error', role: 'alert', hidden: true });
    const count = h('p', { id: 'dlg-split-count', class: 'muted', 'aria-live': 'polite' });
    const ok = h('button', { type: 'submit', class: 'btn btn-primary', id: 'dlg-split-ok', disabled: true }, t('dlg.split.ok'));
    const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dlg.close('cancel') }, t('common.cancel'));
    const chosen = () => boxes.filter((b) => b.checked).map((b) => b.value);
    const update = () => {
      const n = chosen().length;
      count.textContent = t('dlg.split.count', { n, total: boxes.length });
      ok.disabled = n === 0 || n === boxes.length; // something must stay and something must move
    };
    boxes.forEach((b) => b.addEventListener('change', update));
    const form = h('form', { method: 'dialog', onsubmit: async (e) => {
      e.preventDefault();
      const srcs = chosen();
      if (!srcs.length) return;
      ok.disabled = true;
      err.hidden = true;
      try {
        made = await post(`/api/v1/events/${ev.id}/split`, { sources: srcs });
        dlg.close('ok');
      } catch (ex) {
        err.textContent = ex.status === 403 ? t('common.forbidden') : ex.message;
        err.hidden = false;
        ok.disabled = false;
      }
    } },
    h('h2', { id: 'dlg-split-title' }, t('dlg.split', { id: ev.id })),
    h('p', { class: 'muted' }, t('dlg.split.hint')),
    h('fieldset', { class: 'checks' }, h('legend', null, t('dlg.split.sources')),
      boxes.map((b) => h('div', null, h('label', { for: b.id, class: 'check mono' }, b, ' ', b.value)))),
    count, err, h('div', { class: 'actions' }, ok, cancel));
    const dlg = h('dialog', { id: 'dlg-split', 'aria-labelledby': 'dlg-split-title' }, form);
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok' ? made : null); });
    update();
    document.body.appendChild(dlg);
    dlg.showModal();
    boxes[0].focus();
  });
}

function addrList(a) {
  if (!a || !a.length) return h('p', { class: 'muted' }, t('event.none'));
  return h('ul', { class: 'addrs mono' }, a.map((x) => h('li', null, x)));
}

function sample(d, i) {
  const rec = d.record;
  const fields = Object.entries(rec).filter(([k]) => k !== 'raw');
  return h('article', { class: 'sample', 'aria-label': t('event.samples') + ' ' + (i + 1) },
    h('h3', null, time(d.ts), ' · ', d.rule_name || d.rule_id || '', ' · ', label('noise', d.noise)),
    h('div', { class: 'side' },
      h('div', { class: 'raw' }, h('h4', null, t('event.raw')), h('pre', { class: 'rawline', tabindex: '0' }, rec.raw === undefined ? '' : String(rec.raw))),
      h('div', { class: 'parsed' }, h('h4', null, t('event.parsed')),
        table(t('event.parsed'), [
          { label: t('event.field'), cls: 'mono', cell: ([k]) => k },
          { label: t('event.value'), cls: 'mono wrap', cell: ([, v]) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)) },
        ], fields, { cls: 'compact' }))));
}

function detTable(items) {
  return table(t('event.detections'), [
    { label: t('event.det.time'), cell: (d) => time(d.ts) },
    { label: t('event.det.rule'), cell: (d) => d.rule_name || d.rule_id },
    { label: t('event.det.src'), cls: 'mono', cell: (d) => (d.record && d.record.src_ip) || t('common.none') },
    { label: t('event.det.dst'), cls: 'mono', cell: (d) => (d.record && (d.record.dst_ip || d.record['http.host'])) || t('common.none') },
    { label: t('event.det.noise'), cell: (d) => label('noise', d.noise) },
  ], items);
}
