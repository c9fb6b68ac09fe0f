// Browser tests of the ds4p web console, in Debian's headless Chromium
// driven by playwright-core, against a real `ds4p demo` (built from this
// checkout, started on a free port). Screenshots go to test/console/out.
//
//   bash test/console/install.sh && node test/console/console.test.mjs
//
// Exit status 0 when every check passed.
import {spawn, execFileSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import assert from 'node:assert/strict';
import {chromium} from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const out = join(here, 'out');
mkdirSync(out, {recursive: true});
// DS4P_BIN: a ds4p binary already built (default: build this checkout).
const bin = process.env.DS4P_BIN || join(out, 'ds4p');
const failures = [];
let passed = 0;

async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
  }
}

// BULK_PATIENTS synthetic patients: more than the bulk-access limit of
// distinct patients (200 by default), so that one search over all of them
// raises an alert for the Alerts page.
const BULK_PATIENTS = 205;

// startDemo runs `ds4p demo` on a free port and reads its tokens.
async function startDemo() {
  const dataDir = mkdtempSync(join(tmpdir(), 'ds4p-console-'));
  const proc = spawn(bin, ['demo', '--listen', '127.0.0.1:0', '--data', dataDir, '--patients', String(BULK_PATIENTS)],
    {stdio: ['ignore', 'pipe', 'inherit']});
  let text = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('ds4p demo did not start in 60 s:\n' + text)), 60000);
    proc.stdout.on('data', (b) => {
      text += b;
      if (text.includes('Press Ctrl-C')) { clearTimeout(timer); resolve(); }
    });
    proc.on('exit', (code) => reject(new Error(`ds4p demo exited ${code}:\n${text}`)));
  });
  const get = (name) => text.match(new RegExp(`export ${name}=(\\S+)`))[1];
  return {
    proc, dataDir, base: text.match(/proxy at (http:\/\/[0-9.:]+)\/fhir/)[1],
    tokens: {
      consented: get('CONSENTED'), other: get('OTHER'), auditor: get('CONSOLE_AUDITOR'),
      compliance: get('CONSOLE_COMPLIANCE'), consents: get('CONSOLE_CONSENT_MANAGER'),
    },
  };
}

async function fhir(base, token, path) {
  const r = await fetch(base + '/fhir/' + path, {headers: {Authorization: 'Bearer ' + token}});
  await r.arrayBuffer();
  assert.equal(r.status, 200, `GET ${path}`);
}

async function signIn(browser, base, token) {
  const ctx = await browser.newContext({viewport: {width: 1366, height: 768}, acceptDownloads: true});
  const page = await ctx.newPage();
  page.on('pageerror', (e) => failures.push('page error: ' + e.message));
  await page.goto(base + '/console/');
  await page.getByLabel('Admin bearer token').fill(token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.locator('nav').waitFor();
  return page;
}

async function navLinks(page) {
  return page.locator('nav a').allInnerTexts();
}

// shot saves a screenshot and checks that every form control on the page
// has a label (its own <label> or aria-label).
async function shot(page, name) {
  await page.screenshot({path: join(out, name + '.png'), fullPage: false});
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
    .map(e => e.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, [], `${name}: controls without a label`);
}

// simulate runs the simulator for the demo clinic on pat-0's $everything
// and returns the effect of pat-0's Part 2 condition.
async function simulate(page) {
  await page.goto(page.url().replace(/#.*$/, '') + '#/simulator');
  await page.getByRole('button', {name: 'Simulate'}).click();
  await page.locator('#sim-summary').waitFor();
  const row = page.locator('#up-h + ul li', {hasText: 'Condition/pat-0-p2-cond'});
  return (await row.locator('.tag').first().innerText()).trim();
}

async function main() {
  if (!process.env.DS4P_BIN) execFileSync('go', ['build', '-o', bin, './cmd/ds4p'], {cwd: repo, stdio: 'inherit'});
  const demo = await startDemo();
  const {base, tokens} = demo;
  // Traffic for the ledger: the consented and the other clinic read
  // pat-0, and an emergency (break-the-glass) read.
  await fhir(base, tokens.consented, 'Patient/pat-0/$everything');
  await fhir(base, tokens.other, 'Patient/pat-0/$everything');
  await fhir(base, tokens.consented, 'Condition?subject=Patient/pat-1');
  const bgToken = execFileSync(bin, ['token', '--data', demo.dataDir, '--sub', 'Practitioner/er-doc', '--org',
    'Organization/city-er', '--purpose', 'ETREAT', '--scope', 'user/*.read', '--break-glass',
    'unconscious patient, overdose suspected', '--ttl', '10m']).toString().trim();
  await fhir(base, bgToken, 'Patient/pat-0/$everything');
  // A bulk pull: one search that touches every patient raises a
  // bulk-access alert naming this caller (the demo does not block).
  const bulkToken = execFileSync(bin, ['token', '--data', demo.dataDir, '--sub', 'bulk-bot', '--org',
    'Organization/bulk-org', '--client', 'bulk-etl', '--purpose', 'TREAT', '--scope', 'user/*.read', '--ttl', '10m']).toString().trim();
  await fhir(base, bulkToken, `Patient?_count=${BULK_PATIENTS + 10}`);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await runChecks(browser, base, tokens);
  } finally {
    await browser.close();
    demo.proc.kill('SIGTERM');
    rmSync(demo.dataDir, {recursive: true, force: true});
  }
}

async function runChecks(browser, base, tokens) {
  await check('the API refuses calls without a session, and a session without the CSRF token', async () => {
    let r = await fetch(base + '/console/api/audit/search', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'});
    assert.equal(r.status, 401);
    r = await fetch(base + '/console/api/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({token: tokens.auditor})});
    assert.equal(r.status, 200);
    const cookie = r.headers.get('set-cookie');
    assert.match(cookie, /HttpOnly/i);
    assert.match(cookie, /SameSite=Strict/i);
    r = await fetch(base + '/console/api/audit/search', {method: 'POST', headers: {'Content-Type': 'application/json',
      Cookie: cookie.split(';')[0]}, body: '{}'});
    assert.equal(r.status, 403);
    r = await fetch(base + '/console/api/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({token: tokens.consented})});
    assert.equal(r.status, 403, 'a token without an admin role cannot sign in');
  });

  const sign = await browser.newPage({viewport: {width: 1366, height: 768}});
  await sign.goto(base + '/console/');
  await sign.getByLabel('Admin bearer token').waitFor();
  await shot(sign, '00-sign-in');
  await check('a bad token is refused on the sign-in page', async () => {
    await sign.getByLabel('Admin bearer token').fill('not-a-token');
    await sign.getByRole('button', {name: 'Sign in'}).click();
    await sign.getByRole('alert').waitFor();
    assert.match(await sign.getByRole('alert').innerText(), /refused/);
  });
  await sign.close();

  const auditor = await signIn(browser, base, tokens.auditor);
  await check('the auditor sees only the auditor pages, and the server refuses the others', async () => {
    assert.deepEqual(await navLinks(auditor),
      ['Ledger search', 'Accounting of disclosures', 'Break-the-glass review', 'Alerts', 'Chain verification', 'Disclosure charts']);
    const status = await auditor.evaluate(async () => {
      const s = await (await fetch('/console/api/session')).json();
      const r = await fetch('/console/api/policy/status', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf}, body: '{}'});
      return r.status;
    });
    assert.equal(status, 403);
  });
  await check('ledger search: a patient\'s entries, paged, and one disclosure in detail', async () => {
    // Keyboard only: a page puts focus on its content, so Tab reaches the
    // first filter; Enter submits.
    await auditor.keyboard.press('Tab');
    assert.equal(await auditor.evaluate(() => document.activeElement.id), 'q-patient');
    await auditor.keyboard.type('Patient/pat-0');
    await auditor.getByLabel('Page size').fill('2');
    await auditor.getByLabel('Page size').press('Enter');
    await auditor.locator('#ledger-results tbody tr').first().waitFor();
    await auditor.waitForFunction(() => document.querySelectorAll('#ledger-results tbody tr').length === 2);
    assert.equal(await auditor.locator('#ledger-results tbody tr').count(), 2);
    await auditor.getByRole('button', {name: 'Next page →'}).click();
    await auditor.getByText('Page 2').waitFor();
    await auditor.getByRole('button', {name: '← Previous page'}).click();
    await auditor.getByText('Page 1').waitFor();
    const other = auditor.locator('#ledger-results tbody tr', {hasText: 'other-clinic'}).first();
    await other.getByRole('button', {name: /Open disclosure/}).click();
    const detail = auditor.locator('#detail');
    await detail.waitFor();
    assert.match(await detail.innerText(), /Withheld \([1-9]/);
    assert.match(await detail.innerText(), /Policy revision/);
    assert.match(await detail.innerText(), /Label rules revision\s+[0-9a-f]{32}/);
    await detail.scrollIntoViewIfNeeded();
    await shot(auditor, '01-ledger-detail');
    await auditor.evaluate(() => window.scrollTo(0, 0));
    await shot(auditor, '01-ledger-search');
  });
  await check('accounting of disclosures: printable report, CSV and FHIR AuditEvent Bundle', async () => {
    await auditor.getByRole('link', {name: 'Accounting of disclosures'}).click();
    await auditor.getByLabel('Patient').fill('Patient/pat-0');
    await auditor.getByRole('button', {name: 'Produce report'}).click();
    const report = auditor.locator('#report');
    await report.waitFor();
    assert.ok(await report.locator('tbody tr').count() >= 2, 'disclosures listed');
    assert.match(await report.innerText(), /break glass/);
    assert.match(await report.innerText(), /Condition\/pat-0-cond-1\/_history\/1/);
    assert.doesNotMatch(await report.innerText(), /\[object Object\]|undefined/);
    let [dl] = await Promise.all([auditor.waitForEvent('download'), auditor.getByRole('button', {name: 'Download CSV'}).click()]);
    const csv = readFileSync(await dl.path(), 'utf8');
    assert.match(csv, /^date,seq,request_id,patient,recipient/);
    assert.match(csv, /Patient\/pat-0/);
    [dl] = await Promise.all([auditor.waitForEvent('download'),
      auditor.getByRole('button', {name: 'Download FHIR AuditEvent Bundle'}).click()]);
    const bundle = JSON.parse(readFileSync(await dl.path(), 'utf8'));
    assert.equal(bundle.resourceType, 'Bundle');
    assert.ok(bundle.entry.length >= 2 && bundle.entry.every(e => e.resource.resourceType === 'AuditEvent'));
    await shot(auditor, '02-accounting');
    await auditor.emulateMedia({media: 'print'});
    await shot(auditor, '02-accounting-print');
    await auditor.emulateMedia({media: 'screen'});
  });
  await check('break-the-glass queue: the emergency read is listed and can be marked reviewed', async () => {
    await auditor.getByRole('link', {name: 'Break-the-glass review'}).click();
    const row = auditor.locator('#bg-queue tbody tr', {hasText: 'overdose suspected'});
    await row.waitFor();
    await row.getByRole('textbox').fill('justified: ER admission');
    await row.getByRole('button', {name: 'Mark reviewed'}).click();
    await row.getByText('reviewed', {exact: true}).waitFor();
    await shot(auditor, '03-break-glass-reviewed');
    await auditor.getByLabel('Show only disclosures not yet reviewed').uncheck();
    await auditor.locator('#bg-queue tbody tr', {hasText: 'justified: ER admission'}).waitFor();
    await auditor.getByLabel('Show only disclosures not yet reviewed').check();
    await auditor.getByText('Nothing to review.').waitFor();
    assert.doesNotMatch(await auditor.locator('main').innerText(), /null|undefined/);
  });
  await check('alerts: the bulk pull is listed with its caller and threshold, and the auditor clears it by keyboard', async () => {
    await auditor.getByRole('link', {name: 'Alerts'}).click();
    assert.match(auditor.url(), /#\/alerts$/);
    const row = auditor.locator('#alerts tbody tr', {hasText: 'bulk-bot'});
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /bulk-etl/);
    assert.match(text, /Organization\/bulk-org/);
    assert.match(text, new RegExp(`${BULK_PATIENTS} distinct patients touched within 10m0s; the limit is 200`));
    assert.match(text, /not blocked/);
    assert.doesNotMatch(await auditor.locator('main').innerText(), /\bnull\b|undefined|NaN/);
    await shot(auditor, '03-alerts');
    // Keyboard only: Tab from the page reaches the filter, then the Clear button.
    await auditor.locator('main').focus();
    await auditor.keyboard.press('Tab');
    assert.equal(await auditor.evaluate(() => document.activeElement.id), 'al-all');
    const clear = row.getByRole('button', {name: /^Clear alert bulk-[0-9a-f]+ of bulk-bot$/});
    await clear.focus();
    await auditor.keyboard.press('Enter');
    await row.getByText('cleared', {exact: true}).waitFor();
    assert.match(await row.innerText(), /by demo-auditor/);
    assert.ok(await auditor.evaluate(() => document.activeElement.closest('tr')?.innerText.includes('bulk-bot')),
      'focus stays on the cleared row');
    // The proxy agrees: the alert is cleared in the auditor's name.
    const r = await fetch(base + '/admin/alerts?status=all', {headers: {Authorization: 'Bearer ' + tokens.auditor}});
    const mine = (await r.json()).alerts.filter(a => a.subject === 'bulk-bot');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].status, 'cleared');
    assert.equal(mine[0].cleared_by, 'demo-auditor');
    await auditor.getByLabel('Show cleared alerts too').check();
    await auditor.locator('#alerts tbody tr', {hasText: 'bulk-bot'}).getByText('cleared', {exact: true}).waitFor();
    await auditor.getByLabel('Show cleared alerts too').uncheck();
    await auditor.getByText('No open alerts.').waitFor();
    await shot(auditor, '03-alerts-cleared');
    // Other roles are refused by the console; a call without the CSRF token too.
    const login = await fetch(base + '/console/api/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({token: tokens.compliance})});
    const cookie = login.headers.get('set-cookie').split(';')[0];
    const {csrf} = await login.json();
    const other = await fetch(base + '/console/api/audit/alerts', {method: 'POST',
      headers: {'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf}, body: '{}'});
    assert.equal(other.status, 403, 'compliance lists alerts');
    const noCSRF = await auditor.evaluate(async () => (await fetch('/console/api/audit/alerts/clear', {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({id: 'bulk-0000000000000000'})})).status);
    assert.equal(noCSRF, 403, 'a clear without the CSRF token');
  });
  await check('chain verification reports the chain intact', async () => {
    await auditor.getByRole('link', {name: 'Chain verification'}).click();
    await auditor.getByRole('button', {name: 'Verify the chain now'}).click();
    await auditor.locator('#verify-state', {hasText: 'Intact'}).waitFor();
    await shot(auditor, '04-verify');
  });
  await check('charts: disclosures and denials by purpose and topic', async () => {
    await auditor.getByRole('link', {name: 'Disclosure charts'}).click();
    await auditor.locator('figure.chart').first().waitFor();
    assert.equal(await auditor.locator('figure.chart').count(), 4);
    assert.ok(await auditor.locator('figure.chart svg rect').count() >= 4, 'bars drawn');
    const legend = await auditor.locator('figure.chart').nth(3).innerText();
    assert.match(legend, /SUD/);
    await shot(auditor, '05-charts');
  });

  const compliance = await signIn(browser, base, tokens.compliance);
  await check('compliance sees only its pages: policy status and Rego tests', async () => {
    assert.deepEqual(await navLinks(compliance), ['Policy and tests', 'Decision simulator', 'Label rules']);
    await compliance.locator('#test-summary').waitFor({timeout: 60000});
    assert.match(await compliance.locator('#test-summary').innerText(), /^\d+ passed, 0 failed/);
    assert.match(await compliance.locator('#policy-revision').innerText(), /\w+/);
    assert.match(await compliance.locator('#label-rules-revision').innerText(), /^[0-9a-f]{32}$/);
    assert.doesNotMatch(await compliance.locator('main').innerText(), /\bnull\b|undefined/);
    await shot(compliance, '06-policy');
  });
  await check('simulator: the consented clinic gets pat-0\'s Part 2 condition, with the consent as the reason', async () => {
    assert.equal(await simulate(compliance), 'permit');
    const why = compliance.locator('#sim-why');
    assert.match(await compliance.locator('#sim-summary').innerText(), /Consent\/\S+ v1 \(active\)/);
    await shot(compliance, '07-simulator');
    await why.scrollIntoViewIfNeeded();
    await shot(compliance, '07-simulator-why');
  });
  await check('label rules by topic', async () => {
    await compliance.getByRole('link', {name: 'Label rules'}).click();
    await compliance.getByRole('heading', {name: /^SUD/}).waitFor();
    await compliance.getByLabel('Filter rules').fill('F11');
    assert.match(await compliance.locator('main').innerText(), /sud-icd10cm-opioid/);
    await shot(compliance, '08-label-rules');
  });

  const consents = await signIn(browser, base, tokens.consents);
  await check('consent manager: only the consent page; pat-0\'s consent in words, created and revoked', async () => {
    assert.deepEqual(await navLinks(consents), ['Consents']);
    await consents.getByLabel('Patient', {exact: true}).first().fill('Patient/pat-0');
    await consents.getByRole('button', {name: 'Show consents'}).click();
    const card = consents.locator('article.consent').first();
    await card.waitFor();
    assert.match(await card.innerText(), /permits Organization\/demo-clinic to use .* for treatment \(TREAT\)/);
    // A new consent from the form, for pat-1.
    await consents.locator('#n-patient').fill('Patient/pat-1');
    await consents.locator('#n-actor').fill('Organization/demo-clinic');
    await consents.locator('#n-end').fill('2027-01-01');
    await consents.locator('#n-except').fill('DocumentReference');
    await consents.getByRole('button', {name: 'Fill JSON from the form'}).click();
    assert.match(await consents.locator('#n-preview').innerText(),
      /permits Organization\/demo-clinic to use substance use disorder \(SUD\) data for treatment \(TREAT\) from \S+ until 2027-01-01, except that it\s+forbids anyone to use DocumentReference resources/);
    await consents.getByRole('button', {name: 'Create consent'}).click();
    await consents.locator('#n-result', {hasText: 'Stored Consent/'}).waitFor();
    await consents.locator('article.consent', {hasText: 'Patient/pat-1'}).first().waitFor();
    await shot(consents, '09-consent-created');
    // Revoke pat-0's consent.
    await consents.locator('#c-patient').fill('Patient/pat-0');
    await consents.getByRole('button', {name: 'Show consents'}).click();
    const pat0 = consents.locator('article.consent', {hasText: 'Patient/pat-0'}).first();
    await pat0.waitFor();
    consents.once('dialog', (d) => d.accept());
    await pat0.getByRole('button', {name: /Revoke consent/}).click();
    await consents.locator('article.consent', {hasText: 'inactive'}).first().waitFor();
    await consents.locator('article.consent').first().getByRole('button', {name: 'Versions'}).click();
    await consents.locator('ol.versions li').nth(1).waitFor();
    assert.equal(await consents.locator('ol.versions > li').count(), 2);
    await shot(consents, '10-consent-revoked');
  });
  await check('after the revocation the simulator withholds the Part 2 condition and says why', async () => {
    assert.equal(await simulate(compliance), 'deny');
    const why = await compliance.locator('#sim-why').innerText();
    assert.match(why, /Condition\/pat-0-p2-cond/);
    assert.match(await compliance.locator('#sim-summary').innerText(), /v2 \(inactive\)/);
    await compliance.locator('#sim-why').scrollIntoViewIfNeeded();
    await shot(compliance, '11-simulator-after-revoke');
  });
  await check('the patient reading her own record (fhirUser, PATRQT) still gets the Part 2 condition', async () => {
    await compliance.goto(compliance.url().replace(/#.*$/, '') + '#/simulator');
    await compliance.locator('#s-fhiruser').fill('Patient/pat-0');
    await compliance.locator('#s-purpose').selectOption(['PATRQT']);
    await compliance.getByRole('button', {name: 'Simulate'}).click();
    await compliance.locator('#sim-summary').waitFor();
    const row = compliance.locator('#up-h + ul li', {hasText: 'Condition/pat-0-p2-cond'});
    assert.equal((await row.locator('.tag').first().innerText()).trim(), 'permit');
    const why = await compliance.locator('details', {hasText: 'Why each permitted resource may leave'}).textContent();
    assert.match(why, /Condition\/pat-0-p2-cond\s*patient-access/);
    await shot(compliance, '12-simulator-patient-access');
  });
  await check('a failed sign-out says so and keeps the page (no sign-in form)', async () => {
    await consents.route('**/console/api/logout', (r) => r.fulfill({status: 500, contentType: 'application/json', body: '{"error":"boom"}'}));
    await consents.getByRole('button', {name: 'Sign out'}).click();
    await consents.getByText(/Sign-out failed: boom/).waitFor();
    assert.equal(await consents.getByLabel('Admin bearer token').count(), 0);
    assert.ok(await consents.getByRole('button', {name: 'Sign out'}).isVisible());
    await consents.unroute('**/console/api/logout');
  });
  await check('a Rego test run of zero tests is not shown as passing', async () => {
    await compliance.route('**/console/api/policy/tests', (r) => r.fulfill({status: 200, contentType: 'application/json',
      body: JSON.stringify({available: true, revision: 'r0', ran_at: new Date().toISOString(), tests: [], passed: 0, failed: 0, seconds: 0})}));
    await compliance.getByRole('link', {name: 'Label rules'}).click();
    await compliance.getByRole('link', {name: 'Policy and tests'}).click();
    await compliance.getByText('No Rego test ran for this policy revision.').waitFor();
    assert.equal(await compliance.locator('.state.ok').count(), 0);
    await compliance.unroute('**/console/api/policy/tests');
  });
  await check('signing out ends the session on the server', async () => {
    await consents.getByRole('button', {name: 'Sign out'}).click();
    await consents.getByLabel('Admin bearer token').waitFor();
    const status = await consents.evaluate(async () => (await fetch('/console/api/session')).status);
    assert.equal(status, 401);
  });
}

main().then(() => {
  console.log(`${passed} passed, ${failures.length} failed`);
  process.exit(failures.length ? 1 : 0);
}, (e) => {
  console.error(e);
  process.exit(1);
});
