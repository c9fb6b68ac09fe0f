// Browser test (QA round 25, area B): when the console's session ends on
// the server (30 minutes without a call, or the token's expiry) the page
// clears the patients' data it drew instead of keeping it on a screen left
// alone until the next click, and when another tab signs out or in. Headless Chromium with a fake clock
// (playwright's page.clock) against a real `ds4p demo`, as console.test.mjs.
// And no field of any page (patient ids, queries, consents, review notes)
// goes into the browser's form history, which offers it to the profile's
// next user.
//
//   bash test/console/install.sh && node test/console/session_end_qa25b.test.mjs
//
// Exit status 0 when every check passed.
import {spawn, execFileSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import assert from 'node:assert/strict';
import {chromium} from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const out = join(here, 'out');
mkdirSync(out, {recursive: true});
const bin = process.env.DS4P_BIN || join(out, 'ds4p');
const failures = [];
let passed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(e.stack || e).split('\n').slice(0, 6).join('\n     ')}`);
  }
}

async function startDemo() {
  const dataDir = mkdtempSync(join(tmpdir(), 'ds4p-console-'));
  const proc = spawn(bin, ['demo', '--listen', '127.0.0.1:0', '--data', dataDir], {stdio: ['ignore', 'pipe', 'inherit']});
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
  return {proc, dataDir, base: text.match(/proxy at (http:\/\/[0-9.:]+)\/fhir/)[1],
    consented: get('CONSENTED'), auditor: get('CONSOLE_AUDITOR'),
    compliance: get('CONSOLE_COMPLIANCE'), consents: get('CONSOLE_CONSENT_MANAGER')};
}

// ledger signs in as the auditor under a fake clock and shows pat-0's
// ledger entries.
async function ledger(browser, demo) {
  const ctx = await browser.newContext({viewport: {width: 1366, height: 768}});
  const page = await ctx.newPage();
  page.on('pageerror', (e) => failures.push('page error: ' + e.message));
  await page.clock.install();
  await page.goto(demo.base + '/console/');
  await page.getByLabel('Admin bearer token').fill(demo.auditor);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.locator('nav').waitFor();
  await page.getByLabel('Patient').fill('Patient/pat-0');
  await page.getByRole('button', {name: 'Search'}).click();
  await page.locator('#ledger-results tbody tr', {hasText: 'Patient/pat-0'}).first().waitFor();
  return {ctx, page};
}

async function main() {
  if (!process.env.DS4P_BIN) execFileSync('go', ['build', '-o', bin, './cmd/ds4p'], {cwd: repo, stdio: 'inherit'});
  const demo = await startDemo();
  const r = await fetch(demo.base + '/fhir/Patient/pat-0/$everything', {headers: {Authorization: 'Bearer ' + demo.consented}});
  await r.arrayBuffer();
  assert.equal(r.status, 200);
  // A break-the-glass read, so the review queue shows its note field.
  const bg = execFileSync(bin, ['token', '--data', demo.dataDir, '--sub', 'Practitioner/er-doc', '--org',
    'Organization/city-er', '--purpose', 'ETREAT', '--scope', 'user/*.read', '--break-glass', 'overdose suspected',
    '--ttl', '10m']).toString().trim();
  const r2 = await fetch(demo.base + '/fhir/Patient/pat-0/$everything', {headers: {Authorization: 'Bearer ' + bg}});
  await r2.arrayBuffer();
  assert.equal(r2.status, 200);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await check('30 minutes without a call: the page drops the ledger and shows the sign-in form', async () => {
      const {ctx, page} = await ledger(browser, demo);
      // Activity keeps the page: 20 minutes, a search, 20 minutes more.
      await page.clock.fastForward('20:00');
      await page.getByRole('button', {name: 'Search'}).click();
      await page.waitForTimeout(200);
      await page.clock.fastForward('20:00');
      assert.equal(await page.locator('#ledger-results').count(), 1, 'a used session cleared the page');
      await page.clock.fastForward('11:00');
      await page.getByRole('heading', {name: 'Sign in'}).waitFor({timeout: 5000});
      assert.equal(await page.locator('#ledger-results').count(), 0);
      assert.doesNotMatch(await page.locator('body').innerText(), /pat-0/);
      assert.match(await page.getByRole('alert').innerText(), /without use/);
      await ctx.close();
    });
    await check('at the token\'s expiry the page drops what it shows', async () => {
      // The demo's console tokens live a day (ds4p demo); a session at most
      // 8 hours. Keep it used every 20 minutes until then.
      const {ctx, page} = await ledger(browser, demo);
      const ends = await page.evaluate(async () => (await (await fetch('/console/api/session')).json()).expires_in_s);
      assert.ok(ends > 3600 && ends <= 8 * 3600 + 1, `expires_in_s ${ends}`);
      await page.evaluate(() => localStorage.setItem('ds4p-console-last-use', String(Date.now() + 10 * 86400e3)));
      await page.clock.fastForward((ends + 2) * 1000);
      await page.getByRole('heading', {name: 'Sign in'}).waitFor({timeout: 5000});
      assert.equal(await page.locator('#ledger-results').count(), 0);
      assert.match(await page.getByRole('alert').innerText(), /expired|longest/);
      await ctx.close();
    });
    await check('a sign-out in one tab drops the data the other tabs show; a sign-in in one replaces their session', async () => {
      const ctx = await browser.newContext();
      const signIn = async (page, token) => {
        await page.getByLabel('Admin bearer token').fill(token);
        await page.getByRole('button', {name: 'Sign in'}).click();
        await page.locator('nav').waitFor();
      };
      const a = await ctx.newPage();
      await a.goto(demo.base + '/console/');
      await signIn(a, demo.auditor);
      const b = await ctx.newPage();
      await b.goto(demo.base + '/console/#/ledger');
      for (const p of [a, b]) {
        await p.getByLabel('Patient').fill('Patient/pat-0');
        await p.getByRole('button', {name: 'Search'}).click();
        await p.locator('#ledger-results tbody tr', {hasText: 'Patient/pat-0'}).first().waitFor();
      }
      await b.getByRole('button', {name: 'Sign out'}).click();
      await b.getByRole('heading', {name: 'Sign in'}).waitFor();
      await a.getByRole('heading', {name: 'Sign in'}).waitFor({timeout: 5000});
      assert.doesNotMatch(await a.locator('body').innerText(), /pat-0/);
      // a signs in again: b follows and searches. Then, the cookie gone
      // (b still showing pat-0), a sign-in in a as another user replaces
      // b's page.
      await signIn(a, demo.auditor);
      await b.locator('nav').waitFor({timeout: 5000});
      await b.getByLabel('Patient').fill('Patient/pat-0');
      await b.getByRole('button', {name: 'Search'}).click();
      await b.locator('#ledger-results tbody tr', {hasText: 'Patient/pat-0'}).first().waitFor();
      await ctx.clearCookies();
      await a.goto(demo.base + '/console/');
      await signIn(a, demo.compliance);
      await b.locator('nav a', {hasText: 'Policy and tests'}).waitFor({timeout: 5000});
      assert.equal(await b.locator('#ledger-results').count(), 0);
      assert.doesNotMatch(await b.locator('body').innerText(), /pat-0/);
      await ctx.close();
    });
    await check('no field of any page goes into the browser\'s form history', async () => {
      for (const token of [demo.auditor, demo.compliance, demo.consents]) {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        await page.goto(demo.base + '/console/');
        await page.getByLabel('Admin bearer token').fill(token);
        await page.getByRole('button', {name: 'Sign in'}).click();
        await page.locator('nav').waitFor();
        const ids = await page.locator('nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        for (const id of ids) {
          await page.goto(demo.base + '/console/' + id);
          await page.locator('section.page-' + id.slice(2)).waitFor();
          await page.waitForTimeout(300);
          if (id === '#/breakglass') await page.locator('#bg-queue input[type=text]').first().waitFor();
          const kept = await page.evaluate(() => [...document.querySelectorAll('input, textarea')]
            .filter((e) => !['checkbox', 'radio', 'hidden', 'date', 'number', 'search'].includes(e.type))
            .filter((e) => e.autocomplete !== 'off').map((e) => e.id));
          assert.deepEqual(kept, [], `${id}: fields the browser may keep in its form history`);
        }
        await ctx.close();
      }
    });
  } finally {
    await browser.close();
    demo.proc.kill('SIGTERM');
    rmSync(demo.dataDir, {recursive: true, force: true});
  }
  console.log(`${passed} passed, ${failures.length} failed`);
  if (failures.length) {
    console.log(failures.map((f) => '  ' + f).join('\n'));
    process.exit(1);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
