// Sign-in: POST /api/v1/session; 401 wrong name or password, 429 locked or rate-limited
// (Retry-After says for how long).
import { h } from '../dom.js';
import { post } from '../api.js';
import { t, getLang, setLang } from '../i18n/index.js';

export function renderLogin(root, message, onSignedIn, rerender) {
  const err = h('p', { class: 'msg msg-error', role: 'alert', hidden: true, id: 'login-error' });
  const name = h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true, autofocus: true });
  const pw = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'login-submit' }, t('login.submit'));
  const form = h('form', { class: 'login-form', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.hidden = true;
    btn.disabled = true;
    btn.textContent = t('login.busy');
    try {
      const sess = await post('/api/v1/session', { name: name.value, password: pw.value }, { noRedirect: true });
      onSignedIn(sess);
    } catch (ex) {
      btn.disabled = false;
      btn.textContent = t('login.submit');
      err.hidden = false;
      if (ex.status === 429) {
        const sec = Number((ex.headers && ex.headers.get('Retry-After')) || 60);
        err.textContent = sec >= 120 ? t('login.locked.min', { m: Math.ceil(sec / 60) }) : t('login.locked', { s: sec });
      } else if (ex.status === 401) err.textContent = t('login.bad');
      else if (ex.status === 0) err.textContent = t('err.network');
      else err.textContent = t('common.error', { msg: ex.message });
      pw.value = '';
      pw.focus();
    }
  } },
  h('label', { for: 'login-name' }, t('login.name')), name,
  h('label', { for: 'login-password' }, t('login.password')), pw,
  btn);
  root.append(h('main', { id: 'main', class: 'login', tabindex: '-1' },
    h('div', { class: 'login-card' },
      h('div', { class: 'brand brand-login' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◉'), 'crosswatch'),
      h('h1', null, t('login.title')),
      h('p', { class: 'muted' }, t('login.intro')),
      message ? h('p', { class: 'msg msg-info', role: 'status' }, message) : null,
      err, form,
      h('button', { type: 'button', class: 'btn btn-ghost', id: 'lang-switch', title: t('lang.switch.title'),
        onclick: () => { setLang(getLang() === 'ja' ? 'en' : 'ja'); rerender(); } }, t('lang.switch')))));
  document.title = t('login.title') + ' — crosswatch';
  name.focus();
}
