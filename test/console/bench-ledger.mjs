// Times a ledger search in the console, in headless Chromium, on a large
// ledger: from the click on Search to the rows drawn, and the console's own
// split (fetch, draw). Not a pass/fail test.
//
//   go run ./test/console/fillledger -data /tmp/console-1m -n 1000000   # once, ~3.5 min
//   DS4P_BENCH_DATA=/tmp/console-1m node test/console/bench-ledger.mjs
//
// It starts `ds4p demo --data DIR` on that data directory, waits for the
// chart counters' first full count (reported too), then runs each search 7
// times and prints the median.
import {spawn, execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'out');
mkdirSync(out, {recursive: true});
const data = process.env.DS4P_BENCH_DATA;
if (!data) { console.error('DS4P_BENCH_DATA=DIR (filled by go run ./test/console/fillledger) is required'); process.exit(2); }
const bin = process.env.DS4P_BIN || join(out, 'ds4p');
if (!process.env.DS4P_BIN) execFileSync('go', ['build', '-o', bin, './cmd/ds4p'], {cwd: join(here, '..', '..'), stdio: 'inherit'});

// DS4P_BENCH_PLAIN=1 runs `ds4p serve --dev-auth` with storage encryption
// off instead of the demo (which encrypts the file at rest, migrating a
// plaintext ledger on its first start).
const plain = process.env.DS4P_BENCH_PLAIN === '1';
const args = plain
  ? ['serve', '--dev-auth', '--listen', '127.0.0.1:0', '--data', data, '--upstream', 'http://127.0.0.1:9/fhir']
  : ['demo', '--listen', '127.0.0.1:0', '--data', data];
const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'inherit'],
  // ds4p refuses DS4P_* variables it does not know, such as this script's.
  env: {...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DS4P_'))),
    ...(plain ? {DS4P_STORAGE_ENCRYPTION: 'off'} : {})}});
let text = '';
const started = Date.now();
await new Promise((resolve, reject) => {
  proc.stdout.on('data', (b) => { text += b; if (text.includes(plain ? 'ds4p listening on' : 'Press Ctrl-C')) resolve(); });
  proc.on('exit', (c) => reject(new Error('ds4p exited ' + c)));
});
const base = text.match(plain ? /listening on (http:\/\/[0-9.:]+)\/fhir/ : /proxy at (http:\/\/[0-9.:]+)\/fhir/)[1];
const token = plain
  ? execFileSync(bin, ['token', '--data', data, '--sub', 'bench-auditor', '--scope', 'ds4p/auditor']).toString().trim()
  : text.match(/export CONSOLE_AUDITOR=(\S+)/)[1];
console.log(`ds4p ${args[0]} up in ${Date.now() - started} ms`);

const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox',
  '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']});
try {
  const page = await (await browser.newContext({viewport: {width: 1366, height: 768}})).newPage();
  await page.goto(base + '/console/');
  await page.getByLabel('Admin bearer token').fill(token);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.locator('#ledger-results').waitFor({timeout: 120000});
  // Wait for the charts' first count of the whole ledger.
  const t0 = Date.now();
  let counted = 0;
  for (;;) {
    const s = await page.evaluate(async () => {
      const sess = await (await fetch('/console/api/session')).json();
      const r = await fetch('/console/api/audit/stats', {method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': sess.csrf}, body: '{}'});
      return r.json();
    });
    counted = s.entries_counted;
    if (s.complete) break;
    await new Promise(r => setTimeout(r, 500));
  }
  console.log(`chart counters complete over ${counted} entries (${Date.now() - t0} ms after sign-in)`);

  const runs = [
    ['first page, 50 entries', {}],
    ['one patient, 50 entries', {'#q-patient': 'Patient/p-4321'}],
    ['recipient + purpose, 50 entries', {'#q-recipient': 'Organization/org-7', '#q-purpose': 'HPAYMT'}],
    ['first page, 1000 entries', {'#q-limit': '1000'}],
  ];
  for (const [name, fields] of runs) {
    const times = [], splits = [], shown = [];
    for (let i = 0; i < 7; i++) {
      await page.goto(base + '/console/#/breakglass');
      await page.goto(base + '/console/#/ledger');
      await page.locator('#ledger-results').waitFor();
      for (const [sel, v] of Object.entries(fields)) {
        if (sel === '#q-purpose') await page.selectOption(sel, v); else await page.fill(sel, v);
      }
      await page.evaluate(() => { document.getElementById('ledger-timing').id = 'old-timing'; });
      const t = await page.evaluate(() => performance.now());
      await page.getByRole('button', {name: 'Search'}).click();
      await page.locator('#ledger-timing[data-shown-ms]').waitFor();
      const done = await page.evaluate(() => performance.now());
      times.push(done - t);
      shown.push(Number(await page.locator('#ledger-timing').getAttribute('data-shown-ms')));
      splits.push(await page.locator('#ledger-timing').innerText());
    }
    times.sort((a, b) => a - b);
    shown.sort((a, b) => a - b);
    console.log(`${name}: median ${shown[3]} ms from the request to the rows painted (min ${shown[0]}, max ${shown[6]}); ` +
      `${times[3].toFixed(0)} ms click-to-rows as Playwright sees it; e.g. "${splits[3]}"`);
  }
  await page.screenshot({path: join(out, 'bench-ledger-1000.png')});
} finally {
  await browser.close();
  proc.kill('SIGTERM');
}
