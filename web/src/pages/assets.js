// Assets (addresses and hosts with their products). Member admins add their own.
import { h, table, empty, clear } from '../dom.js';
import { get, post } from '../api.js';
import { t } from '../i18n/index.js';

export async function render(ctx) {
  const { main, session, coord } = ctx;
  main.append(h('h1', null, t('assets.title')), h('p', { class: 'muted' }, t('assets.intro')));
  const r = await get('/api/v1/assets');
  const list = r.assets || [];
  main.append(list.length ? h('div', { class: 'table-wrap' }, table(t('assets.title'), [
    coord ? { label: t('assets.col.member'), cell: (a) => a.member } : null,
    { label: t('assets.col.address'), cls: 'mono', cell: (a) => a.address || a.host || '' },
    { label: t('assets.col.products'), cell: (a) => (Array.isArray(a.products) ? a.products.join(', ') : a.products || t('common.none')) },
  ].filter(Boolean), list)) : empty(t('assets.empty')));
  if (session.role === 'member_admin') {
    const msg = h('div');
    const addr = h('input', { id: 'asset-address', required: true, autocomplete: 'off' });
    const prod = h('input', { id: 'asset-products', autocomplete: 'off' });
    main.append(h('form', { class: 'panel stack', id: 'asset-form', onsubmit: async (e) => {
      e.preventDefault();
      clear(msg);
      const v = addr.value.trim();
      if (!v) { addr.focus(); return; }
      const body = /^[0-9a-fA-F:.\/]+$/.test(v) ? { address: v } : { host: v };
      if (prod.value.trim()) body.products = prod.value.trim();
      try {
        await post('/api/v1/assets', body);
        window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (ex) {
        msg.append(h('p', { class: 'msg msg-error', role: 'alert' }, ex.message));
      }
    } }, h('h2', null, t('assets.add')),
    h('label', { for: 'asset-address' }, t('assets.address')), addr,
    h('label', { for: 'asset-products' }, t('assets.products')), prod, msg,
    h('div', null, h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.save')))));
  }
}
