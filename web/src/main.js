// crosswatch web UI: the coordinator's watch floor and the member portal are the same
// code; what a page shows follows the signed-in user's role, and the server decides
// scope on every call anyway (the UI hiding a link is convenience, not security).
import './style.css';
import { h, clear } from './dom.js';
import { get, post, setCsrf, setUnauthorizedHandler, cookieCsrf } from './api.js';
import { t, getLang, setLang, label } from './i18n/index.js';
import { NAV, matchRoute } from './routes.js';
import { renderLogin } from './pages/login.js';
import { takeFlash } from './flash.js';

const state = { session: null, cleanup: null };

function isCoordinator(role) { return role === 'coordinator_admin' || role === 'coordinator_analyst'; }


function shell() {
  const root = document.getElementById('app');
  clear(root);
  const sess = state.session;
  const coord = isCoordinator(sess.role);
  const langBtn = h('button', { type: 'button', class: 'btn btn-ghost', id: 'lang-switch', lang: getLang() === 'ja' ? 'en' : 'ja',
    title: t('lang.switch.title'), onclick: () => { setLang(getLang() === 'ja' ? 'en' : 'ja'); shell(); route(); } }, t('lang.switch'));
  const out = h('button', { type: 'button', class: 'btn btn-ghost', id: 'signout', onclick: signOut }, t('nav.signout'));
  const links = NAV.filter((n) => n.roles.includes(sess.role)).map((n) =>
    h('li', null, h('a', { href: '#' + n.path, 'data-nav': n.path }, t(n.label))));
  root.append(
    h('a', { class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); document.getElementById('main').focus(); } }, t('app.skip')),
    h('header', { class: 'top' },
      h('div', { class: 'brand' }, h('span', { class: 'logo', 'aria-hidden': 'true' }, '◉'), t('app.name'),
        h('span', { class: 'brand-sub' }, coord ? t('app.coordinator') : sess.member_id ? t('app.portal') : t('app.sharing'))),
      h('nav', { 'aria-label': t('nav.main') }, h('ul', null, links)),
      h('div', { class: 'who' },
        h('span', { class: 'who-name' }, t('user.as', { name: sess.name, role: label('role', sess.role) })),
        sess.member ? h('span', { class: 'who-member' }, sess.member) : null,
        langBtn, out)),
    h('main', { id: 'main', tabindex: '-1' }),
    h('div', { id: 'live-region', class: 'sr-only', 'aria-live': 'polite' }));
}

async function signOut() {
  try { await post('/api/v1/session/logout', {}, { noRedirect: true }); } catch (_) { /* already gone */ }
  state.session = null;
  setCsrf('');
  location.hash = '#/';
  showLogin();
}

function showLogin(msg) {
  if (state.cleanup) { state.cleanup(); state.cleanup = null; }
  const root = document.getElementById('app');
  clear(root);
  renderLogin(root, msg, async (sess) => {
    try { sessionStorage.setItem('cw_member', sess.member || ''); } catch (_) { /* ignore */ }
    state.session = sess;
    setCsrf(sess.csrf);
    shell();
    route();
  }, () => showLogin(msg));
}

function markNav(path) {
  let best = null;
  document.querySelectorAll('[data-nav]').forEach((a) => {
    const p = a.getAttribute('data-nav');
    if (path === p || (p !== '/' && path.startsWith(p + '/')) || (p !== '/' && path === p))
      if (!best || p.length > best.getAttribute('data-nav').length) best = a;
  });
  document.querySelectorAll('[data-nav]').forEach((a) => a.removeAttribute('aria-current'));
  if (best) best.setAttribute('aria-current', 'page');
  else if (path === '/' || path === '') document.querySelector('[data-nav="/"]')?.setAttribute('aria-current', 'page');
}

async function route() {
  if (!state.session) return;
  if (state.cleanup) { state.cleanup(); state.cleanup = null; }
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, q] = raw.split('?');
  const query = new URLSearchParams(q || '');
  const main = document.getElementById('main');
  if (!main) return;
  clear(main);
  markNav(path);
  const fl = takeFlash();
  if (fl) main.appendChild(h('p', { class: 'msg msg-' + fl.kind, role: 'status', id: 'flash' }, fl.text));
  const m = matchRoute(path, state.session.role);
  if (!m) {
    main.appendChild(h('h1', null, t('common.notfound')));
    main.appendChild(h('p', { class: 'empty', role: 'status' }, t('common.notfound.text')));
    return;
  }
  const ctx = { session: state.session, main, params: m.params, query, coord: isCoordinator(state.session.role) };
  try {
    const cleanup = await m.route.render(ctx);
    if (typeof cleanup === 'function') state.cleanup = cleanup;
  } catch (e) {
    main.appendChild(h('p', { class: 'msg msg-error', role: 'alert' }, t('common.error', { msg: e.message })));
  }
  const h1 = main.querySelector('h1');
  document.title = (h1 ? h1.textContent + ' — ' : '') + 'crosswatch';
}

async function boot() {
  setLang(getLang());
  setUnauthorizedHandler(() => { state.session = null; showLogin(t('login.expired')); });
  window.addEventListener('hashchange', () => route());
  try {
    // A reload: the session cookie is still there. The CSRF token comes from /me or
    // from the cw_csrf cookie (script-readable by design), the member's name from /me
    // or from what sign-in said in this tab.
    const me = await get('/api/v1/me', { noRedirect: true });
    const csrf = (me && me.csrf) || cookieCsrf();
    if (me && me.role && csrf) {
      let member = me.member;
      if (member === undefined) try { member = sessionStorage.getItem('cw_member'); } catch (_) { member = null; }
      state.session = { ...me, member: member || null, csrf };
      setCsrf(csrf);
      shell();
      route();
      return;
    }
  } catch (_) { /* not signed in */ }
  showLogin();
}

boot();
