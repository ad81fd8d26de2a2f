// Safe DOM building: every text from the API goes in through text nodes / textContent
// (nothing here can set innerHTML); attribute names come from our code, never from
// data, and a javascript: URL is dropped. tests/web/e2e.mjs checks that no source file
// uses innerHTML, outerHTML, insertAdjacentHTML, document.write or eval.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVGNS = 'http://www.w3.org/2000/svg';
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked' || k === 'disabled' || k === 'selected') el[k] = !!v;
    else if (k === 'href' && /^\s*javascript:/i.test(String(v))) continue;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function table(caption, columns, rows, opts = {}) {
  const head = h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)));
  const body = h('tbody', null, rows.map((r, i) => {
    const tr = h('tr', opts.rowAttrs ? opts.rowAttrs(r, i) : null,
      columns.map((c) => h('td', { class: c.num ? 'num' : c.cls || null }, c.cell(r))));
    return tr;
  }));
  return h('table', { class: 'grid' + (opts.cls ? ' ' + opts.cls : '') },
    caption ? h('caption', { class: opts.showCaption ? null : 'sr-only' }, caption) : null,
    h('thead', null, head), body);
}

// An explained empty state: what it means and, when useful, what to do.
export function empty(text) {
  return h('p', { class: 'empty', role: 'status' }, text);
}

export function notice(kind, text) {
  return h('p', { class: 'msg msg-' + kind, role: kind === 'error' ? 'alert' : 'status' }, text);
}
