// Shared parts of the browser tests (tests/web/e2e_*.mjs): checks that print ok/FAIL,
// the browser with the test's viewport, screenshots, and the checks every page gets
// (no untranslated label, no placeholder text, labelled controls, nothing injected,
// WCAG AA contrast of every visible text, no horizontal scrolling at 1366 px).
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const env = (k, d) => { const v = process.env[k]; if (v === undefined && d === undefined) throw new Error('missing ' + k); return v ?? d; };
export const here = dirname(fileURLToPath(import.meta.url));

export const state = { checks: 0, failures: [], dialogs: [], consoleErrors: [] };
export function check(cond, what, detail = '') {
  state.checks++;
  if (cond) console.log('  ok    ' + what);
  else { state.failures.push(what + ' ' + detail); console.log('  FAIL  ' + what + ' ' + detail); }
  return cond;
}
export function require_(cond, what, detail = '') { if (!check(cond, what, detail)) throw new Error('required: ' + what + ' ' + detail); }
export const step = (s) => console.log('[' + s + ']');

export const ja = (await import(join(here, '../../web/src/i18n/ja.js'))).default;
export const en = (await import(join(here, '../../web/src/i18n/en.js'))).default;
const allKeys = Object.keys(en);
// what the UI shows when a key is missing is the key itself: no rendered page may show one
const keyRe = new RegExp('(^|\\s)(' + allKeys.map((k) => k.replace(/[.+]/g, (c) => '\\' + c)).join('|') + ')(\\s|$)');

export async function launch(art, quietStatus) {
  mkdirSync(art, { recursive: true });
  const require = createRequire(join(env('CW_NODE_MODULES'), 'noop.js'));
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: env('CW_CHROMIUM', '/usr/bin/chromium'), args: ['--no-sandbox'] });
  // refusals the scenario provokes on purpose are logged by Chromium as console errors
  const quiet = new RegExp('status of (' + quietStatus + ')');
  const newPage = async (locale) => {
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale, acceptDownloads: true });
    const page = await ctx.newPage();
    page.on('dialog', async (d) => { state.dialogs.push(d.message()); await d.dismiss(); });
    page.on('pageerror', (e) => state.consoleErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' && !quiet.test(m.text())) state.consoleErrors.push(m.text()); });
    return page;
  };
  const shot = async (page, name) => {
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(art, name + '.png'), fullPage: true });
  };
  return { browser, newPage, shot };
}

export async function pageChecks(page, name) {
  const text = await page.locator('body').innerText();
  const m = text.match(keyRe);
  check(!m, name + ': no untranslated label key on the page', m ? JSON.stringify(m[2]) : '');
  check(!/lorem ipsum|placeholder|\bundefined\b|\[object Object\]/i.test(text) && !/\bNaN\b|TODO|FIXME/.test(text), name + ': no placeholder text, undefined or NaN');
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.id || el.name || el.tagName));
  check(unlabelled.length === 0, name + ': every form control has a label', JSON.stringify(unlabelled));
  const injected = await page.evaluate(() => ({
    scripts: document.querySelectorAll('#app script, dialog script').length,
    imgs: document.querySelectorAll('img[src="x"], [onerror], [onload], [id^="pwn-"], iframe').length,
    pwned: window.__pwned || 0,
  }));
  check(injected.scripts === 0 && injected.imgs === 0 && !injected.pwned, name + ': no injected element or script ran', JSON.stringify(injected));
  const lowContrast = await page.evaluate(() => {
    const parse = (c) => { const x = c.match(/rgba?\(([^)]+)\)/); if (!x) return null; const p = x[1].split(',').map(Number); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
    const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
    const bgOf = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a >= 0.99) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
    const bad = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent.trim() || el.closest('svg, .sr-only, option, [hidden]')) continue;
      seen.add(el);
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.display === 'none' || Number(cs.opacity) < 0.99) continue;
      const fg = parse(cs.color); const bg = bgOf(el);
      const L1 = lum(fg), L2 = lum(bg);
      const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
      const size = parseFloat(cs.fontSize); const bold = Number(cs.fontWeight) >= 700;
      const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < need) bad.push(n.textContent.trim().slice(0, 30) + ' ' + ratio.toFixed(2));
    }
    return bad;
  });
  check(lowContrast.length === 0, name + ': every text meets WCAG AA contrast', JSON.stringify(lowContrast.slice(0, 5)));
  const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  check(fits, name + ': fits a 1366 px wide laptop screen (no horizontal scrolling)');
}

export async function signIn(page, url, name, pw) {
  await page.goto(url + '/');
  await page.locator('#login-name').fill(name);
  await page.locator('#login-password').fill(pw);
  await page.locator('#login-submit').click();
  await page.locator('header.top').waitFor();
}

// fetch() inside the page (the session cookie and, for writes, the CSRF token)
export async function apiCall(page, method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const csrf = decodeURIComponent((document.cookie.match(/cw_csrf=([^;]+)/) || [])[1] || '');
    const r = await fetch(p, { method: m, credentials: 'same-origin', headers: m === 'GET' ? {} : { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: b === undefined ? undefined : JSON.stringify(b) });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
    return { status: r.status, json, text, type: r.headers.get('content-type') || '' };
  }, [method, path, body]);
}
