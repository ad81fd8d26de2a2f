// Browser test of the information-sharing pages (issue 10) and the indicator pages
// (issue 8), in headless Debian Chromium via playwright-core. Started by
// tests/integration/test_web_e2e.py on the same center as e2e.mjs (demo data; the test
// put the three members into sectors and made a sector body with one user). Environment:
//   CW_URL, CW_ANALYST_PW, CW_ALPHA_PW   as for e2e.mjs
//   CW_SECTOR_USER, CW_SECTOR_PW         a sector_user of the body covering agency-alpha
//   CW_OTHER_MEMBER                      a member outside that sector (must not show up)
//   CW_MINISTRY_USER, CW_MINISTRY_PW     a ministry_user of the ministry covering CW_OTHER_MEMBER
//   CW_EML                               a real e-mail (shared data) the member submits
//   CW_ARTIFACTS, CW_NODE_MODULES, CW_CHROMIUM
// Every check prints ok/FAIL; the exit status is the number of failures (capped).
import { writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { env, state, check, require_, step, ja, en, launch, pageChecks, signIn, apiCall } from './lib.mjs';

const URL0 = env('CW_URL');
const ART = env('CW_ARTIFACTS');
// 400 and 422 are the refusals this scenario provokes (form validation, the guard)
const { browser, newPage, shot } = await launch(ART, '400|401|403|404|409|422');

const HOSTILE_TITLE = 'Pump stop <img src=x onerror="window.__pwned=7"> <script>window.__pwned=8</script> & "quotes"';
const HOSTILE_WHAT = 'Operators saw <b id="pwn-inc">bold?</b> on the HMI.\nSecond line <iframe src="javascript:alert(1)"></iframe>';
const HOSTILE_ALERT = 'Patch the VPN now <script>window.__pwned=9</script> <svg onload="window.__pwned=10">';

const num = (s) => Number(String(s).replace(/[^0-9]/g, '') || 'NaN');
async function langTo(page, lang, h1Text) {
  if (await page.evaluate(() => document.documentElement.lang) === lang) return;
  await page.locator('#lang-switch').click();
  if (h1Text) await page.locator('h1', { hasText: h1Text }).first().waitFor();
  else await page.waitForFunction((l) => document.documentElement.lang === l, lang);
}

try {
  // ------------------------------------------------------------------ member reports
  step('member: report an incident through the form');
  const mp = await newPage('en-US');
  await signIn(mp, URL0, 'alpha-staff', env('CW_ALPHA_PW'));
  check((await mp.locator('nav').innerText()).includes(en['nav.incidents']), 'the member portal links to incident reports');
  await mp.goto(URL0 + '/#/incidents');
  await mp.locator('#inc-new').waitFor();
  await pageChecks(mp, 'portal incidents (before)');
  await mp.locator('#inc-new').click();
  await mp.locator('#inc-form').waitFor();
  const evOpts = await mp.locator('#inc-event option').allInnerTexts();
  const tax = (await apiCall(mp, 'GET', '/api/v1/incident-taxonomy')).json;
  check(evOpts.length === tax.event.length + 1, 'the event choices are the taxonomy\'s events (+ "not known yet")', String(evOpts.length));
  check(evOpts.some((o) => o.includes(tax.event.find((e) => e.code === 'E3').en)), 'English labels come from the taxonomy', JSON.stringify(evOpts.slice(0, 3)));
  check(await mp.locator('#inc-causes input[type=checkbox]').count() === tax.cause.length, 'one checkbox per cause of the taxonomy (multi-select)');
  await langTo(mp, 'ja', ja['inc.new']);
  const evJa = await mp.locator('#inc-event option').allInnerTexts();
  check(evJa.some((o) => o.includes(tax.event.find((e) => e.code === 'E3').ja)), 'Japanese labels come from the taxonomy\'s own Japanese', JSON.stringify(evJa.slice(3, 5)));
  await pageChecks(mp, 'incident form (ja)');
  await shot(mp, 'portal-incident-form-ja');
  await langTo(mp, 'en', en['inc.new']);
  await pageChecks(mp, 'incident form (en)');
  await shot(mp, 'portal-incident-form-en');

  // the center's validation, shown as text
  await mp.locator('#inc-send').click();
  await mp.locator('#inc-msg .msg-error').waitFor();
  const v1 = await mp.locator('#inc-msg .msg-error').innerText();
  check(/title/.test(v1), 'an empty title is refused with the center\'s reason', v1);
  await mp.locator('#inc-title').fill('x');
  await mp.locator('#inc-occurred').fill('2099-01-01T00:00');
  await mp.locator('#inc-send').click();
  await mp.waitForFunction((old) => document.querySelector('#inc-msg .msg-error')?.textContent !== old, v1);
  const v2 = await mp.locator('#inc-msg .msg-error').innerText();
  const direct = await apiCall(mp, 'POST', '/api/v1/incidents', { title: 'x', occurred: '2099-01-01T00:00:00Z' });
  check(direct.status === 400 && v2 === direct.json.error, 'a future time is refused and the page shows the API\'s message as is', JSON.stringify([v2, direct.json]));
  await mp.locator('#inc-occurred').fill('');
  await mp.locator('#inc-title').fill(HOSTILE_TITLE);
  await mp.locator('#inc-what').fill(HOSTILE_WHAT);
  await mp.locator('#inc-systems').fill('SCADA historian');
  await mp.locator('#inc-event').selectOption('E3');
  await mp.locator('#inc-causes-C12').check();
  await mp.locator('#inc-causes-C17').check();
  await mp.locator('#inc-send').click();
  await mp.waitForURL(/#\/incidents\/\d+$/);
  const incId = mp.url().match(/#\/incidents\/(\d+)$/)[1];
  await mp.locator('.inc-title').waitFor();
  check(await mp.locator('.inc-title').innerText() === HOSTILE_TITLE, 'the hostile title shows exactly, as text');
  check((await mp.locator('#inc-what-text').innerText()).includes('<b id="pwn-inc">bold?</b>'), 'the description with HTML shows as text');
  check(await mp.locator('#pwn-inc, main img, main iframe').count() === 0, 'no element was made from the report\'s text');
  const stored = (await apiCall(mp, 'GET', '/api/v1/incidents/' + incId)).json;
  check(stored.event === 'E3' && JSON.stringify(stored.causes) === '["C12","C17"]', 'the report reached the center with its event and causes', JSON.stringify([stored.event, stored.causes]));
  await mp.locator('#inc-status').selectOption('investigating');
  await mp.locator('#inc-note').fill('isolating the historian <i>now</i>');
  await mp.locator('#inc-update-send').click();
  await mp.locator('#inc-msg .msg-ok').waitFor();
  const hist = await mp.locator('#inc-history').innerText();
  check(hist.includes('reported -> investigating') && hist.includes('<i>now</i>'), 'the status history shows the update with its note as text', hist.slice(0, 200));
  await pageChecks(mp, 'portal incident');
  await shot(mp, 'portal-incident');
  await mp.goto(URL0 + '/#/incidents');
  await mp.locator(`main a[href="#/incidents/${incId}"]`).waitFor();
  await pageChecks(mp, 'portal incidents');
  await shot(mp, 'portal-incidents');

  // ------------------------------------------------------------------ coordinator
  step('coordinator: incidents, classification, statistics');
  const cp = await newPage('ja-JP');
  await signIn(cp, URL0, 'analyst', env('CW_ANALYST_PW'));
  await cp.goto(URL0 + '/#/incidents?member=agency-alpha&status=investigating');
  await cp.locator(`main a[href="#/incidents/${incId}"]`).waitFor();
  check((await cp.locator(`main a[href="#/incidents/${incId}"]`).innerText()) === HOSTILE_TITLE, 'the list shows the hostile title as text');
  check(await cp.locator('#f-member').inputValue() === 'agency-alpha' && await cp.locator('#f-status').inputValue() === 'investigating', 'the filters are kept in the URL');
  await pageChecks(cp, 'incidents (coordinator, ja)');
  await shot(cp, 'incidents-ja');
  const fy = stored.fiscal_year;
  const before = (await apiCall(cp, 'GET', '/api/v1/stats/incidents?fy=' + fy)).json;
  const rowOf = (st, key) => st.rows.find((r) => r.key === key).values;
  await cp.goto(URL0 + '/#/incidents/' + incId);
  await cp.locator('#inc-classify').waitFor();
  check(await cp.locator('#cls-event').inputValue() === 'E3', 'the classification form starts from the reported event');
  await cp.locator('#cls-causes-C13').check();
  await cp.locator('#cls-causes-C17').uncheck();
  await cp.locator('#cls-attack').selectOption('A1');
  await pageChecks(cp, 'incident (coordinator, ja)');
  await shot(cp, 'incident-classify-ja');
  await cp.locator('#inc-classify-send').click();
  await cp.locator('#inc-msg .msg-ok').waitFor();
  const cls = (await apiCall(cp, 'GET', '/api/v1/incidents/' + incId)).json;
  check(cls.attack === 'A1' && JSON.stringify(cls.causes) === '["C12","C13"]', 'the classification reached the center', JSON.stringify([cls.causes, cls.attack]));
  check((await cp.locator('#inc-history').innerText()).includes('classified'), 'the classification is in the history');
  await cp.goto(URL0 + '/#/stats?fy=' + fy);
  await cp.locator('#stats-table tbody tr').first().waitFor();
  const heads = await cp.locator('#stats-table thead tr').nth(1).locator('th').allInnerTexts();
  check(heads.length === 9 && heads[0] === ja['stats.fy'].replace('{fy}', fy - 4) && heads[4] === ja['stats.q'].replace('{q}', 1) && heads[8] === ja['stats.total'],
    'the table has the national layout: four previous years, 1Q-4Q, total', JSON.stringify(heads));
  const q = stored.quarter - 1; // the report's fiscal quarter (the API counts 1..4)
  for (const key of ['attack.A1', 'attack.total', 'cause.C13']) {
    const cells = await cp.locator(`#stats-table tr[data-key="${key}"] td`).allInnerTexts();
    const was = rowOf(before, key);
    check(num(cells[8]) === was[8] + 1 && num(cells[4 + q]) === was[4 + q] + 1, `statistics: "${key}" counts the classified report (FY total and its quarter +1)`, JSON.stringify([cells[4 + q], cells[8], was[4 + q], was[8]]));
  }
  const rep = await cp.locator('#stats-table tr[data-key="reports"] td').allInnerTexts();
  check(num(rep[8]) === rowOf(before, 'reports')[8], 'the report was counted once, when it was reported (classifying adds no report)', JSON.stringify(rep));
  check((await cp.locator('#stats-table tr[data-key="event.E3"] th').innerText()) === tax.event.find((e) => e.code === 'E3').ja, 'row labels in Japanese are the report\'s own');
  const csvHref = await cp.locator('#st-csv').getAttribute('href');
  check(/[?&]for=spreadsheet(&|$)/.test(csvHref), 'the statistics CSV link asks for a spreadsheet-safe file', csvHref);
  const csv = await cp.evaluate(async (h) => { const r = await fetch(h); return [r.status, r.headers.get('content-type'), await r.text()]; }, csvHref);
  check(csv[0] === 200 && /csv/.test(csv[1]) && csv[2].startsWith('key,label,label_ja,FY' + (fy - 4)) && csv[2].includes('attack.A1,'), 'the CSV export answers the same table', JSON.stringify([csv[0], csv[1], csv[2].slice(0, 60)]));
  await pageChecks(cp, 'statistics (ja)');
  await shot(cp, 'stats-ja');
  await langTo(cp, 'en', en['stats.title']);
  await cp.locator('#stats-table tbody tr').first().waitFor();
  check((await cp.locator('#stats-table tr[data-key="event.E3"] th').innerText()).includes(tax.event.find((e) => e.code === 'E3').en), 'row labels in English');
  await pageChecks(cp, 'statistics (en)');
  await shot(cp, 'stats-en');

  step('coordinator: send an alert, start a drill');
  await cp.goto(URL0 + '/#/alerts');
  await cp.locator('#alert-form').waitFor();
  await cp.locator('#al-kind').selectOption('alert');
  await cp.locator('#al-title').fill(HOSTILE_ALERT);
  await cp.locator('#al-body').fill('Apply the vendor fix. <a href="javascript:alert(2)">details</a>');
  await cp.locator('#al-sector-government').check();
  await pageChecks(cp, 'alerts (coordinator)');
  await shot(cp, 'alerts-coordinator');
  await cp.locator('#al-send').click();
  await cp.waitForURL(/#\/alerts\/\d+$/);
  const alertId = cp.url().match(/#\/alerts\/(\d+)$/)[1];
  await cp.locator('.alert-title').waitFor();
  check(await cp.locator('.alert-title').innerText() === HOSTILE_ALERT, 'the alert\'s hostile title shows as text');
  check(await cp.locator('main a[href^="javascript"]').count() === 0, 'no link was made from the alert\'s text');
  check((await cp.locator('#alert-receipts').innerText()).includes(env('CW_SECTOR_ORG')), 'the alert went to the sector body (hop 1)');
  await pageChecks(cp, 'alert (coordinator)');
  await shot(cp, 'alert-coordinator');
  await cp.goto(URL0 + '/#/drills');
  await cp.locator('#drill-form').waitFor();
  await cp.locator('#dr-title').fill('Reachability drill (browser test)');
  await cp.locator('#dr-start').click();
  await cp.waitForURL(/#\/drills\/\d+$/);
  const drillId = cp.url().match(/#\/drills\/(\d+)$/)[1];
  await cp.locator('#drill-summary').waitFor();
  await pageChecks(cp, 'drill report (new)');

  // ------------------------------------------------------------------ sector body
  step('sector body: its sector\'s alert, no member pages');
  const sp = await newPage('ja-JP');
  await signIn(sp, URL0, env('CW_SECTOR_USER'), env('CW_SECTOR_PW'));
  await sp.locator(`main a[href="#/alerts/${alertId}"]`).waitFor();
  check(true, 'a sector user lands on its alerts and sees the coordinator\'s alert');
  const nav = await sp.locator('nav').innerText();
  check(!nav.includes(ja['nav.events']) && !nav.includes(ja['nav.dashboard']) && !nav.includes(ja['nav.notices']) && !nav.includes(ja['nav.indicators']) && !nav.includes(ja['nav.assets']),
    'the sector user\'s navigation has no member or coordinator pages', nav.replace(/\s+/g, ' '));
  check(nav.includes(ja['nav.alerts']) && nav.includes(ja['nav.incidents']) && nav.includes(ja['nav.drills']), 'it has the sharing pages');
  await pageChecks(sp, 'sector alerts (ja)');
  await shot(sp, 'sector-alerts-ja');
  for (const path of ['#/events', '#/notices', '#/indicators', '#/stats', '#/incidents/new']) {
    await sp.goto(URL0 + '/' + path);
    await sp.locator('main h1').waitFor();
    check((await sp.locator('main h1').innerText()) === ja['common.notfound'], 'the sector user gets "not found or not allowed" for ' + path);
  }
  for (const path of ['/api/v1/events', '/api/v1/notices', '/api/v1/indicators', '/api/v1/samples']) {
    const r = await apiCall(sp, 'GET', path);
    check(r.status === 403, 'the API refuses the sector user ' + path, String(r.status));
  }
  await sp.goto(URL0 + '/#/incidents');
  await sp.locator(`main a[href="#/incidents/${incId}"]`).waitFor();
  check(!(await sp.locator('main').innerText()).includes(env('CW_OTHER_MEMBER')), 'the sector user sees its sector\'s reports and no other member\'s');
  await pageChecks(sp, 'sector incidents');
  await shot(sp, 'sector-incidents');
  await sp.goto(URL0 + '/#/alerts/' + alertId);
  await sp.locator('#alert-forward').waitFor();
  await sp.locator('#alert-read').click();
  await sp.locator('#alert-msg .msg-ok').waitFor();
  check((await sp.locator('#alert-receipts').innerText()).includes(env('CW_SECTOR_USER')), 'the sector body\'s receipt: read by its user');
  await sp.locator('#alert-forward').click();
  await sp.waitForFunction(() => document.querySelector('#alert-receipts')?.textContent.includes('agency-alpha'));
  check(true, 'forwarded: the receipts show hop 2 to agency-alpha');
  check(await sp.locator('#alert-read').isDisabled(), 'its own receipt stays read (the members\' unread hop-2 receipts do not re-enable "Mark as read")');
  await pageChecks(sp, 'sector alert');
  await shot(sp, 'sector-alert');

  // ------------------------------------------------------------------ ministry
  step('ministry: its sector\'s reports, information to the center');
  const np = await newPage('en-US');
  await signIn(np, URL0, env('CW_MINISTRY_USER'), env('CW_MINISTRY_PW'));
  await np.locator('#alert-form').waitFor();
  const nnav = await np.locator('nav').innerText();
  check(!nnav.includes(en['nav.events']) && !nnav.includes(en['nav.notices']) && !nnav.includes(en['nav.samples']), 'the ministry user\'s navigation has no member pages', nnav.replace(/\s+/g, ' '));
  check(await np.locator('#al-kind').count() === 0 && await np.locator('#al-sectors').count() === 0, 'a ministry sends information to the center only (no kind, no sectors)');
  await np.goto(URL0 + '/#/incidents');
  await np.locator('main table, main .empty').first().waitFor();
  const ntext = await np.locator('main').innerText();
  check(ntext.includes(env('CW_OTHER_MEMBER')) && !ntext.includes(HOSTILE_TITLE), 'the ministry sees the report of its sector\'s member, not agency-alpha\'s', ntext.slice(0, 300));
  await pageChecks(np, 'ministry incidents');
  await shot(np, 'ministry-incidents');
  const inc404 = await apiCall(np, 'GET', '/api/v1/incidents/' + incId);
  check(inc404.status === 404, 'agency-alpha\'s report is "not found" for the ministry', String(inc404.status));
  await np.goto(URL0 + '/#/alerts');
  await np.locator('#al-title').fill('Ministry note <b id="pwn-min">x</b>');
  await np.locator('#al-body').fill('Schools: check the VPN appliance.');
  await np.locator('#al-send').click();
  await np.waitForURL(/#\/alerts\/\d+$/);
  const infoId = np.url().match(/#\/alerts\/(\d+)$/)[1];
  await np.locator('.alert-title').waitFor();
  check((await np.locator('h1 .badge').innerText()) === en['akind.ministry_info'] && (await np.locator('.alert-title').innerText()) === 'Ministry note <b id="pwn-min">x</b>', 'the ministry information is sent and shows as text');
  check((await np.locator('#alert-receipts').innerText()).includes(en['orgkind.coordinator']), 'it goes to the coordinator');
  await pageChecks(np, 'ministry information');
  await shot(np, 'ministry-info');
  await cp.goto(URL0 + '/#/alerts?kind=ministry_info');
  await cp.locator(`main a[href="#/alerts/${infoId}"]`).click();
  await cp.locator('#alert-read').waitFor();
  await cp.locator('#alert-read').click();
  await cp.locator('#alert-msg .msg-ok').waitFor();
  check((await cp.locator('#alert-receipts').innerText()).includes('analyst'), 'the coordinator marks the ministry information read (receipt read by analyst)');

  // ------------------------------------------------------------------ member: alert, drill
  step('member: the forwarded alert with a read receipt, the drill answered');
  await mp.goto(URL0 + '/#/alerts');
  await mp.locator(`main a[href="#/alerts/${alertId}"]`).waitFor();
  await pageChecks(mp, 'portal alerts');
  await shot(mp, 'portal-alerts');
  await mp.locator(`main a[href="#/alerts/${alertId}"]`).click();
  await mp.locator('#alert-read').waitFor();
  check(await mp.locator('.alert-title').innerText() === HOSTILE_ALERT, 'the member sees the alert\'s title as text');
  await mp.locator('#alert-read').click();
  await mp.locator('#alert-msg .msg-ok').waitFor();
  check((await mp.locator('#alert-receipts').innerText()).includes('alpha-staff') && await mp.locator('#alert-read').isDisabled(), 'read receipt: read by alpha-staff, the button says it is read');
  const again = await apiCall(mp, 'POST', `/api/v1/alerts/${alertId}/read`, {});
  check(again.status === 409, 'a second read is refused by the center (409)', String(again.status));
  await pageChecks(mp, 'portal alert');
  await shot(mp, 'portal-alert');
  await mp.goto(URL0 + '/#/drills');
  await mp.locator('#drill-answer-' + drillId).waitFor();
  await pageChecks(mp, 'portal drills');
  await shot(mp, 'portal-drills');
  await mp.locator('#drill-answer-' + drillId).click();
  await mp.locator('#drill-msg .msg-ok').waitFor();
  check(await mp.locator('#drill-answer-' + drillId).count() === 0, 'the drill is answered (no answer button any more)');
  await cp.goto(URL0 + '/#/drills/' + drillId);
  await cp.reload(); // the same URL as before the answer: read it anew
  await cp.locator('.drill-report tbody tr').first().waitFor();
  const drow = await cp.locator('.drill-report tbody tr', { hasText: 'agency-alpha' }).innerText();
  check(drow.includes(en['dstate.answered']) && drow.includes('alpha-staff'), 'the drill report shows agency-alpha answered by alpha-staff', drow);
  check((await cp.locator('.drill-report').innerText()).includes(en['dstate.waiting']), 'the others are still waiting');
  await pageChecks(cp, 'drill report');
  await shot(cp, 'drill-report');

  // ------------------------------------------------------------------ indicators
  step('member: submit a suspicious e-mail');
  const eml = env('CW_EML');
  await mp.goto(URL0 + '/#/samples');
  await mp.locator('#sample-form').waitFor();
  await pageChecks(mp, 'portal samples');
  await mp.locator('#sample-file').setInputFiles(eml);
  await mp.locator('#sample-send').click();
  await mp.waitForURL(/#\/samples\/\d+$/, { timeout: 60000 });
  const sampleId = mp.url().match(/#\/samples\/(\d+)$/)[1];
  await mp.locator('#sample-candidates').waitFor();
  const crow = await mp.locator('#sample-candidates tbody tr').count();
  check(crow > 0, 'the member sees the candidates of its e-mail', String(crow));
  check((await mp.locator('#sample-name').innerText()) === basename(eml), 'the sample carries the file name');
  const sj = (await apiCall(mp, 'GET', '/api/v1/samples/' + sampleId)).json;
  check(sj.candidates.length === crow, 'one row per candidate of the center\'s answer', JSON.stringify([sj.candidates.length, crow]));
  check(await mp.locator('[data-publish]').count() === 0, 'a member has no publish button');
  await pageChecks(mp, 'portal sample');
  await shot(mp, 'portal-sample');
  await mp.goto(URL0 + '/#/samples');
  await mp.locator(`main a[href="#/samples/${sampleId}"]`).waitFor();
  await mp.goto(URL0 + '/#/indicators');
  await mp.locator('main table, main .empty').first().waitFor();
  const mlist = (await apiCall(mp, 'GET', '/api/v1/indicators')).json.indicators;
  check(mlist.every((x) => x.state === 'published'), 'a member sees published indicators only', JSON.stringify(mlist.map((x) => x.state)));
  const mcsv = await mp.evaluate(async () => { const a = document.querySelector('#ioc-exports a[data-format="csv"]'); const r = await fetch(a.getAttribute('href')); return [r.status, r.headers.get('content-type'), a.getAttribute('href')]; });
  check(mcsv[0] === 200 && /csv/.test(mcsv[1]), 'the member\'s CSV export link answers CSV', JSON.stringify(mcsv));
  check(/[?&]for=spreadsheet(&|$)/.test(mcsv[2]), 'the indicators CSV link asks for a spreadsheet-safe file', mcsv[2]);
  await pageChecks(mp, 'portal indicators');
  await shot(mp, 'portal-indicators');

  step('coordinator: publish a candidate, add and import indicators');
  await cp.goto(URL0 + '/#/samples/' + sampleId);
  await cp.locator('#sample-candidates').waitFor();
  const pubBtn = cp.locator('[data-publish]').first();
  require_(await pubBtn.count() === 1, 'the coordinator sees publish buttons on the candidates');
  const iocId = await pubBtn.getAttribute('data-publish');
  await pageChecks(cp, 'sample (coordinator)');
  await shot(cp, 'sample-coordinator');
  await pubBtn.click();
  await cp.locator('#sample-msg .msg-ok').waitFor();
  const pub = (await apiCall(cp, 'GET', '/api/v1/indicators/' + iocId)).json;
  check(pub.state === 'published', 'the candidate is published', pub.state);
  check(await cp.locator(`[data-publish="${iocId}"]`).count() === 0, 'its publish button is gone');
  await cp.goto(URL0 + '/#/indicators/' + iocId);
  await cp.locator('#ioc-value').waitFor();
  check((await cp.locator('#ioc-value').innerText()) === pub.value, 'the indicator page shows the value');
  check(await cp.locator('#ioc-sightings').count() === 1 && await cp.locator('#ioc-revoke').count() === 1, 'sightings and a revoke button are there');
  await pageChecks(cp, 'indicator');
  await shot(cp, 'indicator');
  const member = (await apiCall(mp, 'GET', '/api/v1/indicators/' + iocId));
  check(member.status === 200 && member.json.state === 'published', 'the member now sees the published indicator', String(member.status));
  await cp.goto(URL0 + '/#/indicators?state=published&tlp=AMBER');
  await cp.locator(`main a[href="#/indicators/${iocId}"]`).waitFor();
  const states = await cp.locator('table.indicators tbody tr td:nth-child(4)').allInnerTexts();
  const tlps = await cp.locator('table.indicators tbody tr td:nth-child(5)').allInnerTexts();
  check(states.every((s) => s === en['istate.published']) && tlps.every((s) => s === 'TLP:AMBER'), 'the list filters by state and TLP', JSON.stringify([...new Set(states)], [...new Set(tlps)]));
  await pageChecks(cp, 'indicators');
  await shot(cp, 'indicators');
  await cp.goto(URL0 + '/#/indicators/add');
  await cp.locator('#ioc-add').waitFor();
  await cp.locator('#ioc-val').fill('10.20.30.40');
  await cp.locator('#ioc-add-send').click();
  await cp.locator('#ioc-refused').waitFor();
  const why = await cp.locator('#ioc-refused').innerText();
  check(/10\.20\.30\.40/.test(why) && /private|RFC 1918/i.test(why), 'the guard\'s refusal is shown with its reason', why);
  await pageChecks(cp, 'add indicator (refused)');
  await shot(cp, 'indicator-add-refused');
  await cp.locator('#ioc-force').check();
  await cp.locator('#ioc-add-send').click();
  await cp.locator('#ioc-result .msg-ok a').waitFor();
  check((await cp.locator('#ioc-result .msg-ok').innerText()).includes('10.20.30.40'), 'with "force" it is added');
  await cp.goto(URL0 + '/#/indicators/import');
  await cp.locator('#ioc-import').waitFor();
  await cp.locator('#imp-format').selectOption('csv');
  await cp.locator('#imp-file').setInputFiles({ name: 'feed <1>.csv', mimeType: 'text/csv', buffer: Buffer.from('type,value,description\ndomain,e2e-import-' + Date.now() + '.example.org,"<b id=""pwn-imp"">x</b>"\nnosuchtype,bar,\n') });
  await cp.locator('#imp-send').click();
  await cp.locator('#imp-rejected').waitFor();
  const rej = await cp.locator('#imp-rejected').innerText();
  check(/line 3/.test(rej) && /nosuchtype/.test(rej), 'import: the rejected object is listed with where and why', rej);
  check((await cp.locator('.import-counts').innerText()).replace(/\s+/g, ' ').includes(en['impcount.added'] + ' 1'), 'import: one added');
  await pageChecks(cp, 'import indicators');
  await shot(cp, 'indicator-import');

  check(state.dialogs.length === 0, 'no alert/confirm dialog fired anywhere', JSON.stringify(state.dialogs));
  check(state.consoleErrors.length === 0, 'no script errors in the browser console', JSON.stringify(state.consoleErrors.slice(0, 5)));
} catch (e) {
  console.log('  FAIL  ' + (e && e.stack ? e.stack : e));
  state.failures.push(String(e));
  let k = 0;
  for (const c of browser.contexts()) for (const p of c.pages()) {
    await p.screenshot({ path: join(ART, `incidents-failure-${++k}.png`), fullPage: true }).catch(() => {});
    console.log(`  ..    incidents-failure-${k}.png: ${p.url()}`);
  }
} finally {
  await browser.close();
}
writeFileSync(join(ART, 'e2e-incidents-result.json'), JSON.stringify({ checks: state.checks, failures: state.failures }, null, 1));
console.log(`e2e_incidents: ${state.checks} checks, ${state.failures.length} failed; screenshots in ${ART}`);
process.exit(Math.min(state.failures.length, 100));
