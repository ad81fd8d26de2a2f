// End-to-end browser test of the watch floor and the member portal (issue 9), in
// headless Debian Chromium driven by playwright-core. Started by
// tests/integration/test_web_e2e.py, which runs a real center on loopback with the demo
// data plus hostile record lines, and passes (environment):
//   CW_URL              the center (http://127.0.0.1:PORT)
//   CW_ANALYST_PW       password of "analyst" (coordinator analyst)
//   CW_ALPHA_PW         password of "alpha-staff" (member admin of agency-alpha)
//   CW_OTHER_EVENT      an event of ministry-beta (alpha-staff must not see it)
//   CW_HOSTILE_EVENT    the agency-alpha event made of hostile record lines
//   CW_ARTIFACTS        where screenshots go (${build}/web-artifacts)
//   CW_NODE_MODULES     node_modules with playwright-core (${build}/web-npm/node_modules)
//   CW_CHROMIUM         the browser (default /usr/bin/chromium)
// Every check prints "ok"/"FAIL"; the exit status is the number of failures (capped).
import { writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { env, here, state, check, require_, step, ja, en, launch, pageChecks, signIn as signInAt, apiCall } from './lib.mjs';

const URL0 = env('CW_URL');
const ART = env('CW_ARTIFACTS');
const { browser, newPage, shot } = await launch(ART, '40[1349]|413|429');
const { dialogs, consoleErrors } = state;

// i18n: both tables have the same keys, so no label is missing in either language.
const allKeys = Object.keys(en);
{
  const missingJa = allKeys.filter((k) => !(k in ja));
  const missingEn = Object.keys(ja).filter((k) => !(k in en));
  check(!missingJa.length && !missingEn.length, 'i18n: ja.js and en.js have the same ' + allKeys.length + ' keys',
    JSON.stringify({ missingJa, missingEn }));
  const untranslated = allKeys.filter((k) => ja[k] === en[k] && /[a-z]{4,}/.test(en[k]) && !/^(crosswatch|CSV|SSRF|ID|English|日本語)$/.test(en[k]));
  check(untranslated.length === 0, 'i18n: every English sentence has a Japanese translation', JSON.stringify(untranslated));
}
// No HTML parsing of strings anywhere in the UI's sources: text goes in as text.
{
  const files = [];
  const walk = (d) => { for (const f of readdirSync(d)) { const p = join(d, f); if (statSync(p).isDirectory()) walk(p); else if (p.endsWith('.js')) files.push(p); } };
  walk(join(here, '../../web/src'));
  const bad = files.filter((f) => /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/.test(readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')));
  check(files.length > 10 && bad.length === 0, 'no web/src file builds HTML from strings (' + files.length + ' files)', JSON.stringify(bad));
}

const signIn = (page, name, pw) => signInAt(page, URL0, name, pw);

async function apiStatus(page, method, path, headers = {}, body) {
  return page.evaluate(async ([m, p, hd, b]) => {
    const r = await fetch(p, { method: m, headers: hd, body: b, credentials: 'same-origin' });
    return r.status;
  }, [method, path, headers, body]);
}

let exitCode = 0;
try {
  // ------------------------------------------------------------------ coordinator
  step('coordinator: sign-in page in Japanese (browser prefers ja)');
  const page = await newPage('ja-JP');
  const resp = await page.goto(URL0 + '/');
  const hdr = resp.headers();
  check((hdr['content-security-policy'] || '').includes("script-src 'self'"), 'index.html is served with a CSP that allows only own scripts', hdr['content-security-policy']);
  await page.locator('#login-name').waitFor();
  check(await page.locator('h1').innerText() === ja['login.title'], 'the sign-in page is in Japanese by default for a ja browser');
  // focus order: name -> password -> submit
  await page.locator('#login-name').focus();
  await page.keyboard.press('Tab');
  const f1 = await page.evaluate(() => document.activeElement.id);
  await page.keyboard.press('Tab');
  const f2 = await page.evaluate(() => document.activeElement.id);
  check(f1 === 'login-password' && f2 === 'login-submit', 'keyboard focus order on the sign-in form', f1 + ',' + f2);
  const outline = await page.evaluate(() => { const cs = getComputedStyle(document.activeElement); return [cs.outlineStyle, parseFloat(cs.outlineWidth)]; });
  check(outline[0] !== 'none' && outline[1] >= 2, 'the keyboard focus is visible (outline)', JSON.stringify(outline));
  await pageChecks(page, 'sign-in');
  await shot(page, 'signin-ja');
  await page.locator('#login-name').fill('analyst');
  await page.locator('#login-password').fill('wrong-password');
  await page.locator('#login-submit').click();
  await page.locator('#login-error').waitFor({ state: 'visible' });
  check(await page.locator('#login-error').innerText() === ja['login.bad'], 'a wrong password is refused with a message');

  step('coordinator: dashboard with live counters');
  await signIn(page, 'analyst', env('CW_ANALYST_PW'));
  const cookies = await page.context().cookies();
  const sc = cookies.find((c) => c.name === 'cw_session');
  check(sc && sc.httpOnly && sc.sameSite === 'Strict', 'the session cookie is HttpOnly and SameSite=Strict', JSON.stringify(sc && { httpOnly: sc.httpOnly, sameSite: sc.sameSite }));
  check(!(await page.evaluate(() => document.cookie)).includes('cw_session'), 'scripts cannot read the session cookie');
  await page.locator('#c-records-value').waitFor({ timeout: 15000 });
  const recs = await page.locator('#c-records-value').innerText();
  check(/^[0-9][0-9,.\s]*$/.test(recs) && recs.replace(/\D/g, '') !== '0', 'live counter: records in shows a number > 0', recs);
  check((await page.locator('#live-state').innerText()).includes(ja['dash.live.on'].split(' ')[0]), 'the live stream is connected');
  await page.locator('#chart-records svg.svgchart').waitFor();
  for (const id of ['chart-records', 'chart-classes', 'chart-noise', 'chart-notices-month', 'chart-notices-fy']) {
    const n = await page.locator('#' + id + ' svg.svgchart').count();
    check(n === 1, 'dashboard chart ' + id + ' is drawn');
  }
  const csvLinks = await page.locator('figure.chart a[download]').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  check(csvLinks.length >= 5, 'every chart offers a CSV export', String(csvLinks.length));
  for (const href of csvLinks) {
    const r = await page.evaluate(async (h) => { const x = await fetch(h); return [x.status, x.headers.get('content-type') || '', (await x.text()).split('\n')[0]]; }, href);
    check(r[0] === 200 && /csv/.test(r[1]) && r[2].length > 0, 'CSV export ' + href + ' answers CSV with a header line', JSON.stringify(r));
    check(new URL(href, page.url()).searchParams.get('for') === 'spreadsheet', 'CSV export ' + href + ' asks for a spreadsheet-safe file');
  }
  await pageChecks(page, 'dashboard (ja)');
  await shot(page, 'dashboard-ja');
  // the counters update without reload: wait for a second message (every 2 s)
  const t1 = await page.locator('#live-state').getAttribute('data-time');
  await page.waitForFunction((old) => document.querySelector('#live-state').getAttribute('data-time') !== old, t1, { timeout: 10000 }).then(
    () => check(true, 'live counters update without a reload'), () => check(false, 'live counters update without a reload'));

  // figures (not checks): a fresh load of the dashboard until the counters and every
  // chart are drawn, beside the time the browser spent on the page's API calls
  const timings = {};
  for (const [name, hash, ready] of [['dashboard', '#/', '#chart-notices-fy svg.svgchart, #chart-notices-fy .empty'],
    ['event queue', '#/events', '#queue tbody tr']]) {
    const samples = [];
    let api = 0;
    for (let i = 0; i < 5; i++) {
      await page.goto(URL0 + '/' + hash);
      const t0 = Date.now();
      await page.reload();
      await page.locator(ready).first().waitFor();
      if (name === 'dashboard') await page.locator('#c-records-value').waitFor();
      samples.push(Date.now() - t0);
      api = await page.evaluate(() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/') && !e.name.includes('/live'))
        .reduce((m, e) => Math.max(m, e.responseEnd), 0) - performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/')).reduce((m, e) => Math.min(m, e.startTime), 1e9));
    }
    samples.sort((a, b) => a - b);
    timings[name] = { median_ms: samples[2], max_ms: samples[4], api_span_ms: Math.round(api) };
    console.log(`  ..    ${name}: ready ${samples[2]} ms median of 5 reloads (max ${samples[4]}); API calls of the page span ${Math.round(api)} ms`);
  }
  writeFileSync(join(ART, 'timings.json'), JSON.stringify(timings, null, 1));
  await page.goto(URL0 + '/#/');
  await page.locator('#c-records-value').waitFor();

  step('language switch');
  await page.locator('#lang-switch').click();
  await page.locator('h1', { hasText: en['dash.title'] }).waitFor();
  check(await page.evaluate(() => document.documentElement.lang) === 'en', 'switching to English sets <html lang="en">');
  check((await page.locator('nav').innerText()).includes(en['nav.events']), 'navigation labels are in English after the switch');
  await page.locator('#chart-records svg.svgchart').waitFor();
  await pageChecks(page, 'dashboard (en)');
  await shot(page, 'dashboard-en');

  step('coordinator: the records chart\'s time range (7 d, reload, custom, CSV)');
  {
    const DAYMS = 86400e3;
    const reqs = [];
    const onReq = (rq) => { const u = new URL(rq.url()); if (u.pathname === '/api/v1/series' && !u.searchParams.get('format')) reqs.push(u.searchParams); };
    page.on('request', onReq);
    const spanOf = (p) => Date.parse(p.get('to')) - Date.parse(p.get('from'));
    const figState = () => page.evaluate(() => {
      const f = document.querySelector('#chart-records');
      const texts = [...f.querySelectorAll('svg.svgchart text.axis')];
      const yMax = Math.max(...texts.map((x) => Number(x.getAttribute('y'))));
      return { range: f.dataset.range, bucket: f.dataset.bucket, n: Number(f.dataset.buckets), sub: f.querySelector('.chart-sub').textContent,
        ticks: texts.filter((x) => Number(x.getAttribute('y')) === yMax).map((x) => x.textContent),
        rows: [...f.querySelectorAll('.chart-table tbody tr')].map((tr) => [tr.cells[0].textContent, Number(tr.cells[1].textContent.replace(/\D/g, ''))]),
        csv: [...f.querySelectorAll('figcaption a[download]')].map((a) => a.getAttribute('href')) };
    });
    await page.goto(URL0 + '/#/');
    await page.reload();
    await page.locator('#chart-records[data-range="48h"] svg.svgchart').waitFor();
    const d48 = await figState();
    const r48 = reqs.filter((p) => p.get('metric') === 'records').pop();
    check(r48 && r48.get('bucket') === 'hour' && spanOf(r48) === 48 * 3600e3, 'default range: the chart asks for 48 h by the hour', r48 && r48.toString());
    check(d48.bucket === 'hour' && (d48.n === 48 || d48.n === 49) && d48.sub === en['range.sub'].replace('{bucket}', en['bucket.hour']).replace('{range}', en['range.48h']),
      'default range: 48 or 49 hourly buckets drawn, subtitle says so', JSON.stringify([d48.n, d48.sub]));
    reqs.length = 0;
    // keyboard: the picker is a labelled select; one step down from 48 h is 7 d
    await page.locator('#range-pick').focus();
    check(await page.evaluate(() => document.activeElement.labels[0].textContent) === en['range.label'], 'the range picker is labelled');
    await page.keyboard.press('ArrowDown');
    await page.locator('#chart-records[data-range="7d"] svg.svgchart').waitFor();
    check(await page.evaluate(() => document.activeElement && document.activeElement.id) === 'range-pick', 'the keyboard focus stays on the picker after the chart is redrawn');
    const d7 = await figState();
    const r7 = reqs.filter((p) => p.get('metric') === 'records').pop();
    const dt7 = reqs.filter((p) => p.get('metric') === 'detections').pop();
    check(r7 && r7.get('bucket') === 'day' && spanOf(r7) === 7 * DAYMS && dt7 && dt7.get('from') === r7.get('from') && dt7.get('to') === r7.get('to'),
      '7 d: records and detections are asked for 7 days by the day', r7 && r7.toString());
    const days = r7 ? Math.floor(Date.parse(r7.get('to')) / DAYMS) - Math.floor(Date.parse(r7.get('from')) / DAYMS) + 1 : -1;
    check(d7.bucket === 'day' && d7.n === days && d7.n !== d48.n, '7 d: one bucket per UTC day drawn (' + days + ', was ' + d48.n + ')', JSON.stringify([d7.bucket, d7.n]));
    check(d7.ticks.length > 1 && d7.ticks.every((x) => /^\d{1,2}\/\d{1,2}$/.test(x)) && d48.ticks.every((x) => /\d, \d\d$/.test(x)),
      '7 d: the time axis is labelled by day (48 h: by hour)', JSON.stringify([d7.ticks, d48.ticks]));
    // the figures: day rows at midnight UTC, adding up to the hourly series of the same range
    const hourly = await apiCall(page, 'GET', '/api/v1/series?metric=records&bucket=hour&from=' + r7.get('from') + '&to=' + r7.get('to'));
    const hsum = (hourly.json.points || []).reduce((a, p) => a + p.value, 0);
    const dsum = d7.rows.reduce((a, r) => a + r[1], 0);
    check(d7.rows.length > 0 && d7.rows.every((r) => /T00:00:00(\.0+)?Z$/.test(r[0])) && dsum === hsum && hsum > 0,
      '7 d: the chart\'s table holds day buckets adding up to the hourly records of the same range', JSON.stringify([d7.rows.length, dsum, hsum]));
    const today = Math.floor(Date.now() / DAYMS) * DAYMS;
    const todayRow = d7.rows.find((r) => Date.parse(r[0]) === today);
    check(todayRow && todayRow[1] >= 6, '7 d: today\'s bucket holds the records ingested by this test', JSON.stringify(todayRow));
    check(d7.sub === en['range.sub'].replace('{bucket}', en['bucket.day']).replace('{range}', en['range.7d']), '7 d: the subtitle says per day, last 7 days', d7.sub);
    // the URL keeps the choice: a reload (and a link) shows the same range
    check(/#\/\?range=7d$/.test(page.url()), 'the URL carries the choice', page.url());
    await page.goBack();
    await page.locator('#chart-records[data-range="48h"] svg.svgchart').waitFor({ timeout: 5000 }).catch(() => {});
    check(await page.locator('#chart-records').getAttribute('data-range') === '48h' && await page.locator('#range-pick').inputValue() === '48h', 'Back returns to the previous range');
    await page.goForward();
    await page.locator('#chart-records[data-range="7d"] svg.svgchart').waitFor({ timeout: 5000 }).catch(() => {});
    check(await page.locator('#chart-records').getAttribute('data-range') === '7d', 'Forward to 7 d again');
    reqs.length = 0;
    await page.reload();
    await page.locator('#chart-records svg.svgchart').waitFor();
    const rr = reqs.filter((p) => p.get('metric') === 'records').pop();
    check(await page.locator('#chart-records').getAttribute('data-range') === '7d' && await page.locator('#range-pick').inputValue() === '7d' && rr && rr.get('bucket') === 'day' && spanOf(rr) === 7 * DAYMS,
      'a reload shows the same range (picker and request)', rr && rr.toString());
    // the CSV links carry the range
    const d7r = await figState();
    check(d7r.csv.length === 2, 'the records chart has its two CSV links', String(d7r.csv.length));
    for (const href of d7r.csv) {
      const u = new URL(href, URL0);
      check(u.searchParams.get('bucket') === 'day' && u.searchParams.get('from') === rr.get('from') && u.searchParams.get('to') === rr.get('to') &&
        u.searchParams.get('format') === 'csv' && u.searchParams.get('for') === 'spreadsheet', 'CSV ' + u.searchParams.get('metric') + ': the chart\'s range, bucket and for=spreadsheet', href);
      const c = await page.evaluate(async (x) => { const r = await fetch(x); return [r.status, await r.text()]; }, href);
      const lines = c[1].trim().split('\n');
      check(c[0] === 200 && lines[0] === 't,value' && lines.slice(1).every((l) => /^\d{4}-\d\d-\d\dT00:00:00(\.0+)?Z,\d+$/.test(l)), 'CSV ' + u.searchParams.get('metric') + ': one line per day', JSON.stringify(lines.slice(0, 3)));
    }
    // custom: refused when the start is not before the end, or when too long; the chart stays
    await page.locator('#range-pick').selectOption('custom');
    await page.locator('#range-from').waitFor({ state: 'visible' });
    check(await page.evaluate(() => document.activeElement.id) === 'range-from', 'custom: the start field gets the focus');
    const loc = (ms) => page.evaluate((x) => { const d = new Date(x); const p = (v) => String(v).padStart(2, '0'); return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`; }, ms);
    const now0 = Math.floor(Date.now() / 60e3) * 60e3;
    await page.locator('#range-from').fill(await loc(now0 - 3600e3));
    await page.locator('#range-to').fill(await loc(now0 - 5 * 3600e3));
    reqs.length = 0;
    await page.locator('#range-to').press('Enter');
    await page.locator('#range-error').waitFor({ state: 'visible' });
    check(await page.locator('#range-error').innerText() === en['range.bad.order'], 'custom: an end before the start is refused with a visible message');
    await page.locator('#range-from').fill('1000-01-01T00:00');
    await page.locator('#range-to').fill(await loc(now0));
    await page.locator('#range-apply').click();
    const tooLong = await page.locator('#range-error').innerText();
    check(tooLong.startsWith(en['range.bad.long'].split('{n}')[0]) && tooLong.endsWith(en['range.bad.long'].split('{n}')[1]), 'custom: a range longer than the API answers (10,000 buckets) is refused', tooLong);
    check(reqs.length === 0 && (await page.locator('#chart-records').getAttribute('data-range')) === '7d' && /range=7d$/.test(page.url()),
      'a refused range asks nothing of the center and leaves chart and URL as they were', JSON.stringify([reqs.length, page.url()]));
    await pageChecks(page, 'dashboard, custom range refused');
    await shot(page, 'dashboard-range-refused');
    // a valid custom range of 36 hours: hourly, in the URL, kept on reload
    const cf = now0 - 36 * 3600e3, ct = now0;
    await page.locator('#range-from').fill(await loc(cf));
    await page.locator('#range-to').fill(await loc(ct));
    await page.locator('#range-apply').click();
    await page.locator('#chart-records[data-range="custom"]').waitFor();
    const rc = reqs.filter((p) => p.get('metric') === 'records').pop();
    const isoOf = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');
    check(rc && rc.get('from') === isoOf(cf) && rc.get('to') === isoOf(ct) && rc.get('bucket') === 'hour', 'custom 36 h: the request carries exactly the chosen from/to, by the hour', rc && rc.toString());
    const dc = await figState();
    check(dc.n === 37 && dc.bucket === 'hour' && dc.rows.length > 0 && dc.rows.every((r) => /T\d\d:00:00(\.0+)?Z$/.test(r[0])),
      'custom 36 h: 37 hourly buckets drawn, the table by the hour', JSON.stringify([dc.n, dc.rows.slice(0, 2)]));
    const cu = new URL(page.url());
    const hq = new URLSearchParams(cu.hash.split('?')[1] || '');
    check(hq.get('range') === 'custom' && hq.get('from') === isoOf(cf) && hq.get('to') === isoOf(ct), 'custom: the URL carries from and to', page.url());
    await page.reload();
    await page.locator('#chart-records svg.svgchart, #chart-records .empty').first().waitFor();
    check(await page.locator('#chart-records').getAttribute('data-range') === 'custom' && await page.locator('#range-pick').inputValue() === 'custom' && await page.locator('#range-from').inputValue() === await loc(cf) &&
      await page.locator('#range-to').inputValue() === await loc(ct) && (await figState()).n === 37, 'custom: a reload shows the same range');
    await pageChecks(page, 'dashboard, custom range');
    await shot(page, 'dashboard-range-custom');
    // a link with a broken custom range shows the default and says why
    await page.goto(URL0 + '/#/?range=custom&from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z');
    await page.locator('#chart-records[data-range="48h"]').waitFor();
    check(await page.locator('#range-error').innerText() === en['range.bad.order'], 'a link with from after to: the default range, with the reason shown');
    page.off('request', onReq);
  }

  step('coordinator: a retro-hunt refused (IPv6 /16, forced) is labelled with its reason');
  {
    const add = await apiCall(page, 'POST', '/api/v1/indicators', { type: 'cidr', value: '2a00::/16', force: true, publish: true, tlp: 'GREEN', description: 'e2e: too wide to hunt' });
    require_(add.status === 200 && add.json.added && add.json.added.length === 1, 'a forced IPv6 /16 is published', add.text.slice(0, 300));
    const wid = add.json.added[0].id;
    let st = '';
    for (let i = 0; i < 100 && (!st || st === 'running'); i++) {
      st = ((await apiCall(page, 'GET', '/api/v1/indicators/' + wid)).json.retro_hunt || {}).state || '';
      if (!st || st === 'running') await page.waitForTimeout(100);
    }
    require_(st.startsWith('refused: '), 'the center refuses its retro-hunt', st);
    const reason = st.slice('refused: '.length);
    await page.goto(URL0 + '/#/indicators/' + wid);
    await page.locator('#ioc-retro-state .rh-label').waitFor();
    check(await page.locator('#ioc-retro-state .rh-label').innerText() === en['rhstate.refused'], 'English: the state reads "' + en['rhstate.refused'] + '"');
    check(await page.locator('#ioc-retro-state .rh-reason').innerText() === reason && reason.includes('2a00::/16'), 'the center\'s reason is shown as it came', reason);
    check(!(await page.locator('#ioc-retro-state').innerText()).startsWith('refused:'), 'the raw state word is not shown as the label');
    await pageChecks(page, 'indicator, retro-hunt refused (en)');
    await shot(page, 'indicator-retro-refused-en');
    await page.locator('#lang-switch').click();
    await page.locator('#ioc-retro-state .rh-label', { hasText: ja['rhstate.refused'] }).waitFor();
    check(await page.locator('#ioc-retro-state .rh-reason').innerText() === reason, 'Japanese: 「' + ja['rhstate.refused'] + '」 with the same reason');
    await pageChecks(page, 'indicator, retro-hunt refused (ja)');
    await shot(page, 'indicator-retro-refused-ja');
    await page.locator('#lang-switch').click();
    await page.locator('#ioc-retro-state .rh-label', { hasText: en['rhstate.refused'] }).waitFor();
  }

  step('coordinator: event queue, keyboard triage');
  await page.goto(URL0 + '/#/events?member=agency-alpha&state=new');
  await page.locator('#queue tbody tr').first().waitFor();
  const nrows = await page.locator('#queue tbody tr').count();
  require_(nrows > 0, 'the queue lists new events of agency-alpha', String(nrows));
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  const selId = await page.locator('#queue tbody tr[aria-selected="true"]').getAttribute('data-id');
  check(!!selId, 'j / k select a row', String(selId));
  await page.keyboard.press('?');
  await page.locator('#dlg-help').waitFor();
  check((await page.locator('#dlg-help').innerText()).includes(en['help.m']), '? shows the keyboard help');
  await page.keyboard.press('Escape');
  await page.locator('#dlg-help').waitFor({ state: 'detached' });
  await page.keyboard.press('a');
  await page.locator('#dlg-assignee').waitFor();
  await page.locator('#dlg-assignee').fill('analyst');
  await page.keyboard.press('Enter');
  await page.locator('#dlg-assign').waitFor({ state: 'detached' });
  await page.locator(`#queue tbody tr[data-id="${selId}"] td`, { hasText: 'analyst' }).first().waitFor();
  check(true, 'a: the event is assigned from the keyboard');
  await page.keyboard.press('s');
  await page.locator('#dlg-state-to').waitFor();
  await page.locator('#dlg-state-to').selectOption('investigating');
  await page.locator('#dlg-reason').fill('confirmed in the raw lines');
  await shot(page, 'queue-state-dialog');
  await page.keyboard.press('Enter');
  await page.locator('#dlg-state').waitFor({ state: 'detached' });
  const ev = await page.evaluate(async (id) => (await fetch('/api/v1/events/' + id)).json(), selId);
  check(ev.state === 'investigating' && ev.assignee === 'analyst', 's: the state change reached the center', JSON.stringify([ev.state, ev.assignee]));
  await pageChecks(page, 'event queue');
  await shot(page, 'event-queue');

  step('coordinator: merge from the keyboard (m), refused and allowed');
  await page.reload(); // the same URL again: a reload, so the queue is read anew
  await page.locator('#queue tbody tr').nth(1).waitFor();
  const ids = await page.locator('#queue tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
  check(await page.locator('#signout').count() === 1, 'a reload keeps the session (cookie + CSRF token from the cw_csrf cookie)');
  require_(ids.length >= 2 && !ids.includes(selId), 'two more new events of agency-alpha to merge', JSON.stringify(ids));
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press('j');
  check(await page.locator('#queue tbody tr[aria-selected="true"]').getAttribute('data-id') === ids[1], 'j moves to the second row');
  await page.keyboard.press('m');
  await page.locator('#dlg-into').waitFor();
  await page.locator('#dlg-into').fill(env('CW_OTHER_EVENT'));
  await page.keyboard.press('Enter');
  await page.locator('#dlg-merge .msg-error').waitFor({ state: 'visible' });
  check(/different members/.test(await page.locator('#dlg-merge .msg-error').innerText()),
    'merging into another member\'s event is refused, with the center\'s reason, and the dialog stays open');
  await page.locator('#dlg-into').fill(ids[0]);
  await page.keyboard.press('Enter');
  await page.locator('#dlg-merge').waitFor({ state: 'detached' });
  const merged = await page.evaluate(async (id) => (await fetch('/api/v1/events/' + id)).json(), ids[1]);
  check(merged.state === 'duplicate', 'm: the event was merged (now a duplicate)', merged.state);
  await page.locator(`#queue tbody tr[data-id="${ids[1]}"] .state-duplicate`).waitFor();
  check(true, 'the queue row shows the merged event as a duplicate');

  step('coordinator: split an event on its page (choose sources, confirm, see the new event)');
  const cands = await page.evaluate(async () => (await (await fetch('/api/v1/events?limit=500&state=open')).json()).events
    .filter((e) => Array.isArray(e.sources) && e.sources.length >= 2 && ['new', 'investigating', 'notified'].includes(e.state))
    .map((e) => ({ id: e.id, sources: e.sources, count: e.count, member: e.member })));
  require_(cands.length >= 1, 'an open event with two or more sources to split', String(cands.length));
  const orig = cands[0];
  await page.goto(URL0 + '/#/events/' + orig.id);
  await page.locator('#act-split').click();
  await page.locator('#dlg-split').waitFor();
  check(await page.locator('#dlg-split input[name="split-src"]').count() === orig.sources.length,
    'the split dialog offers every source of the event', String(orig.sources.length));
  check(await page.locator('#dlg-split-ok').isDisabled(), 'nothing checked: the split cannot be confirmed');
  for (let i = 0; i < orig.sources.length; i++) await page.locator('#split-src-' + i).check();
  check(await page.locator('#dlg-split-ok').isDisabled(), 'every source checked: the split cannot be confirmed (nothing would stay)');
  for (let i = 1; i < orig.sources.length; i++) await page.locator('#split-src-' + i).uncheck();
  const moved = orig.sources[0];
  check((await page.locator('#dlg-split-count').innerText()).includes('1'), 'the dialog counts the checked sources');
  await pageChecks(page, 'split dialog');
  await shot(page, 'event-split-dialog');
  await page.locator('#dlg-split-ok').click();
  await page.locator('#dlg-split').waitFor({ state: 'detached' });
  await page.waitForURL((u) => /#\/events\/\d+$/.test(u.toString()) && !u.toString().endsWith('/events/' + orig.id));
  const newId = page.url().match(/#\/events\/(\d+)$/)[1];
  await page.locator('main h1').filter({ hasText: newId }).waitFor();
  const [made, rest] = await page.evaluate(async (ids) => Promise.all(ids.map(async (i) => (await fetch('/api/v1/events/' + i + '?det_limit=200')).json())), [newId, orig.id]);
  check(Number(newId) !== orig.id && made.id === Number(newId), 'the page shows the new event', newId);
  check(made.member === orig.member, 'the new event belongs to the same member', made.member);
  check(JSON.stringify(made.sources) === JSON.stringify([moved]), 'the new event holds exactly the source split off', JSON.stringify(made.sources));
  const madeDets = (made.detections && made.detections.items) || [];
  check(madeDets.length > 0 && madeDets.every((d) => d.record && d.record.src_ip === moved), 'the new event\'s detections all come from the source split off', String(madeDets.length));
  check(!(rest.sources || []).includes(moved) && rest.sources.length === orig.sources.length - 1, 'the original event no longer lists that source', JSON.stringify(rest.sources));
  check(made.count + rest.count === orig.count, 'the detections were moved, not copied or lost', `${made.count}+${rest.count} vs ${orig.count}`);
  await pageChecks(page, 'event page after a split');
  await shot(page, 'event-split-new');

  step('coordinator: write and send a notice (n)');
  await page.goto(URL0 + '/#/events?member=agency-alpha&state=investigating');
  await page.locator(`#queue tbody tr[data-id="${selId}"] a`).focus();
  await page.keyboard.press('n');
  await page.locator('#compose').waitFor();
  check(await page.locator('#c-events').inputValue() === selId, 'n opens the composer with the event filled in');
  check(await page.locator('#c-member').inputValue() === 'agency-alpha', 'the composer has the event\'s member');
  const tplCount = await page.locator('#c-template option').count();
  check(tplCount > 1, 'the composer offers the templates', String(tplCount));
  await page.locator('#c-template').selectOption('edge_exploit');
  await page.locator('#c-lang').selectOption('ja');
  await page.locator('#c-preview h2').waitFor();
  await pageChecks(page, 'composer');
  await shot(page, 'notice-composer');
  await page.locator('#c-send').click();
  await page.waitForURL(/#\/notices\/\d+$/);
  const noticeId = page.url().match(/#\/notices\/(\d+)$/)[1];
  await page.locator('#flash').waitFor();
  check((await page.locator('#flash').innerText()).includes(noticeId), 'the notice was sent and the page says so', noticeId);
  check((await page.locator('.notice-body').innerText()).includes('agency-alpha'), 'the template was filled from the event');
  await pageChecks(page, 'notice (coordinator)');
  await shot(page, 'notice-coordinator');

  step('coordinator: event page, hostile record lines render as text');
  await page.goto(URL0 + '/#/events/' + env('CW_HOSTILE_EVENT'));
  await page.locator('#samples pre.rawline').first().waitFor();
  const raw = await page.locator('#samples pre.rawline').first().innerText();
  check(raw.includes('<script>window.__pwned=1</script>'), 'the raw line shows the <script> payload as text');
  const parsed = await page.locator('#samples table').first().innerText();
  check(parsed.includes('<img src=x onerror=') , 'the parsed fields show the HTML payload (user agent) as text');
  check((await page.locator('#detections').innerText()).includes('<b id="pwn-sig">'), 'the rule name with HTML shows as text in the detections');
  check(await page.locator('#event-timeline svg.svgchart').count() === 1, 'the event page draws the timeline');
  await pageChecks(page, 'event page (hostile)');
  await shot(page, 'event-page');
  await page.goto(URL0 + '/#/events?q=' + encodeURIComponent('198.51.100.66'));
  await page.locator('#queue tbody tr').first().waitFor();
  await pageChecks(page, 'event queue (hostile search)');

  step('coordinator: campaigns, notices, overdue, sensors');
  await page.goto(URL0 + '/#/campaigns');
  await page.locator('main table, main .empty').first().waitFor();
  check(await page.locator('main table tbody tr').count() > 0, 'campaigns across members are listed');
  await pageChecks(page, 'campaigns');
  await shot(page, 'campaigns');
  await page.goto(URL0 + '/#/notices');
  await page.locator(`main a[href="#/notices/${noticeId}"]`).waitFor();
  await pageChecks(page, 'notices');
  await shot(page, 'notices');
  await page.goto(URL0 + '/#/notices/overdue');
  await page.locator('main table, main .empty').first().waitFor();
  await pageChecks(page, 'overdue');
  await shot(page, 'overdue-notices');
  await page.locator('#signout').click();
  await page.locator('#login-name').waitFor();
  check(await apiStatus(page, 'GET', '/api/v1/me') === 401, 'after sign-out the session no longer works');

  // ------------------------------------------------------------------ member
  step('member: portal');
  const mp = await newPage('en-US');
  await mp.goto(URL0 + '/');
  await mp.locator('#login-name').waitFor();
  check(await mp.locator('h1').innerText() === en['login.title'], 'the sign-in page is in English for an English browser');
  await signIn(mp, 'alpha-staff', env('CW_ALPHA_PW'));
  await mp.locator('#c-records-value').waitFor({ timeout: 15000 });
  check(!(await mp.locator('nav').innerText()).includes(en['nav.campaigns']), 'the member portal has no coordinator pages in its navigation');
  await mp.locator(`main a[href="#/notices/${noticeId}"]`).waitFor();
  check(true, 'the member sees the new notice on its overview');
  await pageChecks(mp, 'portal overview');
  await shot(mp, 'portal-overview');

  step('member: acknowledge, answer and attach');
  await mp.locator(`main a[href="#/notices/${noticeId}"]`).first().click();
  await mp.locator('#notice-ack').waitFor();
  // a forged request (no CSRF header) is refused
  check(await apiStatus(mp, 'POST', `/api/v1/notices/${noticeId}/ack`, { 'Content-Type': 'application/json' }, '{}') === 403,
    'a write without the CSRF token is refused (403)');
  await mp.locator('#notice-ack').click();
  await mp.locator('#notice-msg .msg-ok').waitFor();
  check((await mp.locator('h1 .badge').innerText()) === en['nstate.acknowledged'], 'the notice is acknowledged');
  const answer = 'Checked the appliance: patched. <b id="pwn-answer">bold?</b> <script>window.__pwned=3</script>';
  await mp.locator('#answer-text').fill(answer);
  await mp.locator('#answer-send').click();
  await mp.locator('#answers li').first().waitFor();
  check((await mp.locator('#answers').innerText()).includes('<b id="pwn-answer">bold?</b>'), 'the answer (with HTML) shows as text');
  check(await mp.locator('#pwn-answer').count() === 0, 'the HTML in the answer made no element');
  const fileBody = 'version check of 10.1.0.10\n<script>alert(5)</script>\n';
  await mp.locator('#attach-file').setInputFiles({ name: 'check <result>.txt', mimeType: 'text/plain', buffer: Buffer.from(fileBody) });
  await mp.locator('#attach-send').click();
  await mp.locator('#attachments li, #notice-msg .msg-error').first().waitFor();
  const upErr = await mp.locator('#notice-msg .msg-error').count() ? await mp.locator('#notice-msg .msg-error').innerText() : '';
  require_(!upErr, 'the member attaches a file', upErr);
  const aHref = await mp.locator('#attachments li a').first().getAttribute('href');
  const got = await mp.evaluate(async (h) => { const r = await fetch(h); return [r.status, r.headers.get('content-disposition') || '', await r.text()]; }, aHref);
  check(got[0] === 200 && got[2] === fileBody && /attachment/.test(got[1]), 'the attachment is stored and downloads as an attachment with the same bytes', JSON.stringify(got[0]));
  const big = await mp.evaluate(async (id) => {
    const csrf = decodeURIComponent((document.cookie.match(/cw_csrf=([^;]+)/) || [])[1] || '');
    const r = await fetch(`/api/v1/notices/${id}/attachments?name=big.bin`, { method: 'POST', headers: { 'X-CSRF-Token': csrf }, body: new Uint8Array(5 * 1024 * 1024 + 1) });
    return r.status;
  }, noticeId);
  check(big === 413, 'an attachment over 5 MiB is refused (413)', String(big));
  await pageChecks(mp, 'notice (member)');
  await shot(mp, 'portal-notice');

  step('member: events, detections, assets, sensors');
  for (const [path, name] of [['#/events', 'portal-events'], ['#/detections', 'portal-detections'], ['#/assets', 'portal-assets'], ['#/sensors', 'portal-sensors']]) {
    await mp.goto(URL0 + '/' + path);
    await mp.locator('main table, main .empty').first().waitFor();
    await pageChecks(mp, name);
    await shot(mp, name);
  }
  const sensorText = await mp.locator('main').innerText();
  check(sensorText.includes('web-gw') && !sensorText.includes('vpn'), 'the member sees its own sensors only');

  step('member: another member\'s event, by URL and by API');
  const other = env('CW_OTHER_EVENT');
  await mp.goto(URL0 + '/#/events/' + other);
  await mp.locator('#not-found').waitFor();
  check((await mp.locator('#not-found').innerText()) === en['common.notfound'], 'opening another member\'s event by URL shows "not found or not allowed"');
  const st = await apiStatus(mp, 'GET', '/api/v1/events/' + other);
  check(st === 404 || st === 403, 'the API refuses another member\'s event', String(st));
  const st2 = await apiStatus(mp, 'POST', `/api/v1/events/${other}/state`, { 'Content-Type': 'application/json',
    'X-CSRF-Token': await mp.evaluate(() => decodeURIComponent((document.cookie.match(/cw_csrf=([^;]+)/) || [])[1] || '')) },
  JSON.stringify({ state: 'resolved' }));
  check(st2 === 403 || st2 === 404, 'a member cannot change an event\'s state', String(st2));
  await shot(mp, 'portal-not-allowed');
  await mp.goto(URL0 + '/#/events/' + env('CW_HOSTILE_EVENT'));
  await mp.locator('#samples pre.rawline').first().waitFor();
  await pageChecks(mp, 'event page (member, hostile)');

  step('sign-in lockout');
  const lp = await newPage('en-US');
  await lp.goto(URL0 + '/');
  let lastMsg = '';
  for (let i = 0; i < 6; i++) {
    await lp.locator('#login-name').fill('gamma-staff');
    await lp.locator('#login-password').fill('not-the-password-' + i);
    await lp.locator('#login-submit').click();
    await lp.locator('#login-error').waitFor({ state: 'visible' });
    await lp.waitForFunction(() => !document.querySelector('#login-submit').disabled);
    lastMsg = await lp.locator('#login-error').innerText();
  }
  const pat = (k, v) => new RegExp('^' + en[k].replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace('\\{' + v + '\\}', '[0-9]+').replace('{' + v + '}', '[0-9]+') + '$');
  check(pat('login.locked', 's').test(lastMsg) || pat('login.locked.min', 'm').test(lastMsg),
    'after five wrong passwords the account is locked and the page says when to retry', lastMsg);
  await shot(lp, 'signin-locked');

  check(dialogs.length === 0, 'no alert/confirm dialog fired anywhere', JSON.stringify(dialogs));
  check(consoleErrors.length === 0, 'no script errors in the browser console', JSON.stringify(consoleErrors.slice(0, 5)));
} catch (e) {
  console.log('  FAIL  ' + (e && e.stack ? e.stack : e));
  state.failures.push(String(e));
  // what the browser showed when it stopped
  let k = 0;
  for (const c of browser.contexts()) for (const p of c.pages()) {
    await p.screenshot({ path: join(ART, `failure-${++k}.png`), fullPage: true }).catch(() => {});
    console.log(`  ..    failure-${k}.png: ${p.url()}`);
  }
} finally {
  await browser.close();
}
writeFileSync(join(ART, 'e2e-result.json'), JSON.stringify({ checks: state.checks, failures: state.failures }, null, 1));
console.log(`e2e: ${state.checks} checks, ${state.failures.length} failed; screenshots in ${ART}`);
exitCode = Math.min(state.failures.length, 100);
process.exit(exitCode);
