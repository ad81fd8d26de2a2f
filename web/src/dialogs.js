// Triage dialogs (<dialog> with showModal: focus is trapped, Esc closes) shared by the
// event queue and the event page. Each resolves true when the event changed.
import { h } from './dom.js';
import { post } from './api.js';
import { t, label } from './i18n/index.js';

export const STATES = ['new', 'investigating', 'notified', 'resolved', 'false_positive', 'duplicate'];

function modal(id, title, fields, submit) {
  return new Promise((resolve) => {
    const err = h('p', { class: 'msg msg-error', role: 'alert', hidden: true });
    const ok = h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.save'));
    const cancel = h('button', { type: 'button', class: 'btn', onclick: () => dlg.close('cancel') }, t('common.cancel'));
    const form = h('form', { method: 'dialog', onsubmit: async (e) => {
      e.preventDefault();
      ok.disabled = true;
      err.hidden = true;
      try {
        await submit();
        dlg.close('ok');
      } catch (ex) {
        err.textContent = ex.status === 403 ? t('common.forbidden') : ex.message;
        err.hidden = false;
        ok.disabled = false;
      }
    } }, h('h2', { id: id + '-title' }, title), fields, err, h('div', { class: 'actions' }, ok, cancel));
    const dlg = h('dialog', { id, 'aria-labelledby': id + '-title' }, form);
    dlg.addEventListener('close', () => { dlg.remove(); resolve(dlg.returnValue === 'ok'); });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input, select, textarea');
    if (first) first.focus();
  });
}

export function assignDialog(ev) {
  const who = h('input', { id: 'dlg-assignee', value: ev.assignee || '', autocomplete: 'off' });
  return modal('dlg-assign', t('dlg.assign', { id: ev.id }),
    [h('label', { for: 'dlg-assignee' }, t('dlg.assign.who')), who],
    () => post(`/api/v1/events/${ev.id}/assign`, { assignee: who.value.trim() }));
}

export function stateDialog(ev) {
  const sel = h('select', { id: 'dlg-state-to' }, STATES.filter((s) => s !== ev.state && s !== 'new').map((s) =>
    h('option', { value: s }, label('state', s))));
  const reason = h('input', { id: 'dlg-reason', autocomplete: 'off' });
  return modal('dlg-state', t('dlg.state', { id: ev.id }),
    [h('label', { for: 'dlg-state-to' }, t('dlg.state.to')), sel, h('label', { for: 'dlg-reason' }, t('dlg.state.reason')), reason],
    () => post(`/api/v1/events/${ev.id}/state`, reason.value.trim() ? { state: sel.value, reason: reason.value.trim() } : { state: sel.value }));
}

export function mergeDialog(ev) {
  const into = h('input', { id: 'dlg-into', inputmode: 'numeric', pattern: '[0-9]+', autocomplete: 'off', required: true });
  return modal('dlg-merge', t('dlg.merge', { id: ev.id }),
    [h('p', { class: 'muted' }, t('dlg.merge.hint')), h('label', { for: 'dlg-into' }, t('dlg.merge.into')), into],
    () => post(`/api/v1/events/${ev.id}/merge`, { into: Number(into.value) }));
}

export function helpDialog(keys) {
  return new Promise((resolve) => {
    const close = h('button', { type: 'button', class: 'btn', onclick: () => dlg.close() }, t('common.close'));
    const dlg = h('dialog', { id: 'dlg-help', 'aria-labelledby': 'dlg-help-title' },
      h('h2', { id: 'dlg-help-title' }, t('help.title')),
      h('dl', { class: 'keys' }, keys.map(([k, d]) => [h('dt', null, h('kbd', null, k)), h('dd', null, t(d))])),
      h('div', { class: 'actions' }, close));
    dlg.addEventListener('close', () => { dlg.remove(); resolve(); });
    document.body.appendChild(dlg);
    dlg.showModal();
    close.focus();
  });
}

export function isTyping(e) {
  const el = e.target;
  return el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) || document.querySelector('dialog[open]');
}
