// The web dashboard (/ui) of a live `rmq-connect standalone` in headless Debian chromium, driven
// by playwright-core. run.sh starts the worker with three connectors (file-source, file-sink, broken-sink) and
// passes its REST address.
//
// Checks: the page loads and lists the worker, the connectors and their tasks RUNNING (a failed
// one FAILED, its trace expandable) and the plugins; the throughput chart shows records moving (rates from two /metrics scrapes); pause and
// resume from the page reach the worker (its REST status says PAUSED, then RUNNING); restart with
// tasks; the editor validates live (an error for a bad config), creates a connector, edits it
// (key/value form), and the connector is deleted from the page. Throughout: no console error, no
// uncaught exception, no failed request and no HTTP error answer. With --admin/--viewer (the
// worker has basic auth): the page needs credentials, a read-only user sees it and its changes
// are refused (403 in the banner).
//
// With --bearer (the worker takes bearer tokens only): the page's shell loads without credentials,
// the page asks for a token, refuses and forgets a wrong one, works with the admin's (kept in
// sessionStorage only), stays signed in across a reload, forgets the token on sign-out, and a
// read token's change gets 403.
//
// usage: node test.js --url http://127.0.0.1:PORT --chromium /usr/bin/chromium --dir TMP
//                     [--admin USER:PASS --viewer USER:PASS] [--screenshots DIR]
//        node test.js --url ... --bearer ADMIN_TOKEN [--bearer-read READ_TOKEN]
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const URL_BASE = arg('url');
const CHROMIUM = arg('chromium', '/usr/bin/chromium');
const DIR = arg('dir', require('os').tmpdir());
const SHOTS = arg('screenshots', '');
// user:password of an admin and of a read-only user (the worker runs with basic auth)
const ADMIN = arg('admin', '');
const VIEWER = arg('viewer', '');
const basic = (cred) => 'Basic ' + Buffer.from(cred).toString('base64');
// --bearer TOKEN (an admin's) and --bearer-read TOKEN: the worker takes bearer tokens only, and
// the page's own sign-in is tested instead (bearerMain).
const BEARER = arg('bearer', '');
const BEARER_READ = arg('bearer-read', '');
if (!URL_BASE) {
  console.error('usage: node test.js --url http://HOST:PORT [--chromium PATH] [--dir TMP] [--screenshots DIR]');
  process.exit(2);
}

const started = Date.now();
function log(msg) {
  console.log(`[test.js +${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}
function fail(msg) {
  throw new Error(msg);
}

// The worker's REST API, straight (not through the page), to check what the page did: with
// basic credentials "user:pass", or with {bearer: token}.
async function rest(method, p, cred = BEARER ? { bearer: BEARER } : ADMIN) {
  const authorization = !cred ? undefined : cred.bearer ? 'Bearer ' + cred.bearer : basic(cred);
  const res = await fetch(URL_BASE + p, { method, headers: authorization ? { Authorization: authorization } : {} });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch (_) {
    // not JSON
  }
  return { status: res.status, body };
}

// Polls fn() until it returns a truthy value; fails after `ms` naming what it waited for.
async function until(what, fn, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function restState(name) {
  const r = await rest('GET', `/connectors/${encodeURIComponent(name)}/status?format=kafka`);
  if (r.status !== 200) return null;
  return { connector: r.body.connector.state, tasks: r.body.tasks.map((t) => t.state) };
}

async function expectRestState(name, state) {
  await until(`${name} ${state} in the REST status`, async () => {
    const s = await restState(name);
    return s && s.connector === state && s.tasks.length > 0 && s.tasks.every((t) => t === state);
  });
}

// A read-only credential's Pause of file-source from the page: 403, the reason in the banner, and
// the connector still RUNNING.
async function expectPauseRefused(page, row, who) {
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/connectors/file-source/pause')),
    row.locator('button[data-action="pause"]').click(),
  ]);
  if (refused.status() !== 403) fail(`${who} pause answered ${refused.status()}, not 403`);
  await until('the refusal in the banner', async () => /not allowed/.test(await page.locator('#banner').textContent()));
  const s = await restState('file-source');
  if (!s || s.connector !== 'RUNNING') fail(`file-source is ${s && s.connector} after ${who} pause`);
}

// Headless chromium with a fresh profile directory (playwright passes it as --user-data-dir).
async function launch(httpCredentials) {
  const userDataDir = fs.mkdtempSync(path.join(DIR, 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    // Without these chromium hangs on a closed network (it phones home at start).
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    httpCredentials,
    timeout: 30000,
  });
  return { userDataDir, context };
}

async function main() {
  // answers the worker's basic auth challenge, as a user typing into the browser's prompt does
  const { userDataDir, context } = await launch(
    ADMIN ? { username: ADMIN.split(':')[0], password: ADMIN.slice(ADMIN.indexOf(':') + 1) } : undefined);
  const problems = [];
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`uncaught exception: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure() && r.failure().errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
      if (!r.url().startsWith(URL_BASE)) problems.push(`outside fetch: ${r.url()}`);
    });
    page.on('dialog', (d) => d.accept()); // the delete confirmation

    // --- the page, the worker, the connectors and their tasks ----------------------------------
    const loaded = await page.goto(`${URL_BASE}/ui?refresh=1000`);
    if (!loaded || loaded.status() !== 200) fail(`GET /ui answered ${loaded && loaded.status()}`);
    const row = (name) => page.locator(`tr.connector[data-connector="${name}"]`);
    const taskState = (name, state) =>
      page.locator(`tr.task[data-connector="${name}"][data-task="0"] .task-state [data-state="${state}"]`);
    for (const name of ['file-source', 'file-sink']) {
      await row(name).waitFor();
      await taskState(name, 'RUNNING').waitFor();
      await row(name).locator('.connector-state [data-state="RUNNING"]').waitFor();
    }
    log('both connectors and their tasks listed RUNNING');
    // A failed task: FAILED, with its trace behind a click.
    await taskState('broken-sink', 'FAILED').waitFor();
    const trace = page.locator('tr.task[data-connector="broken-sink"][data-task="0"] details.trace');
    if (await trace.locator('pre').isVisible()) fail('the trace is shown before it is opened');
    await trace.locator('summary').click();
    await trace.locator('pre').waitFor({ state: 'visible' });
    const traceText = await trace.locator('pre').textContent();
    if (!/no\/such\/dir/.test(traceText)) fail(`the trace does not name the file: ${traceText}`);
    log(`failed task listed FAILED, trace opened: ${traceText.split('\n')[0].slice(0, 100)}`);
    await page.locator('#workers tr[data-worker="dashboard-worker"]').waitFor();
    const workerText = await page.locator('#worker-info').textContent();
    if (!/dashboard-worker/.test(workerText) || !/standalone/.test(workerText)) fail(`worker info: ${workerText}`);
    const taskWorker = await page.locator('tr.task[data-connector="file-source"][data-task="0"] td').nth(3).textContent();
    if (taskWorker !== 'dashboard-worker') fail(`task worker_id shown as ${taskWorker}`);
    await page.locator('#plugins tr[data-plugin*="FileSourceConnector"]').first().waitFor();
    const pluginRows = await page.locator('#plugins tbody tr').count();
    if (pluginRows < 4) fail(`only ${pluginRows} plugins listed`);
    log(`worker and ${pluginRows} plugins listed`);

    // --- throughput: records moving, computed from /metrics scrapes -------------------------------
    const seriesText = (name) => page.locator(`#throughput-chart [data-series="${name}"]`).textContent();
    await until('a non-zero throughput for file-source and file-sink in the chart', async () => {
      const src = await page.locator('#throughput-chart [data-series="file-source"]').count();
      const snk = await page.locator('#throughput-chart [data-series="file-sink"]').count();
      if (!src || !snk) return false;
      const nonZero = (t) => /: [0-9.]+k? records\/s/.test(t) && !/: 0 records\/s/.test(t);
      return nonZero(await seriesText('file-source')) && nonZero(await seriesText('file-sink'));
    });
    if ((await page.locator('#throughput-chart svg polyline').count()) < 2) fail('no chart lines drawn');
    log(`throughput chart: ${await seriesText('file-source')} | ${await seriesText('file-sink')}`);
    if (SHOTS) {
      // only for the docs' pictures: a few more scrapes so the chart has a line to show
      await page.waitForTimeout(8000);
      await page.screenshot({ path: path.join(SHOTS, 'dashboard-overview.png'), fullPage: true });
    }

    // --- pause and resume from the page ------------------------------------------------------------
    await row('file-source').locator('button[data-action="pause"]').click();
    await expectRestState('file-source', 'PAUSED');
    await taskState('file-source', 'PAUSED').waitFor();
    log('pause from the page: REST status PAUSED, the page shows it');
    await row('file-source').locator('button[data-action="resume"]').click();
    await expectRestState('file-source', 'RUNNING');
    await taskState('file-source', 'RUNNING').waitFor();
    log('resume from the page: REST status RUNNING');

    // --- restart with tasks --------------------------------------------------------------------------
    const [restart] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/connectors/file-sink/restart')),
      row('file-sink').locator('button[data-action="restart"]').click(),
    ]);
    if (restart.status() !== 202) fail(`restart answered ${restart.status()}`);
    if (!restart.url().includes('includeTasks=true')) fail(`restart without tasks: ${restart.url()}`);
    await expectRestState('file-sink', 'RUNNING');
    log('restart (with tasks) from the page: 202, RUNNING again');

    // --- create with live validation ------------------------------------------------------------------
    await page.locator('#new-connector').click();
    await page.locator('#editor').waitFor();
    const sourceClass = await page.locator('#ed-plugin option[value*="FileSourceConnector"]').first().getAttribute('value');
    await page.locator('#ed-plugin').selectOption(sourceClass);
    await page.locator('#ed-name').fill('created-by-ui');
    // No filename, and a task count that is no number: the worker's validation names both.
    await page.locator('#ed-json').fill(JSON.stringify({ 'connector.class': sourceClass, 'max.tasks': 'many' }));
    const validation = page.locator('#ed-validation');
    await until('validation errors for the bad config', async () => {
      const t = await validation.textContent();
      return /error/.test(t) && /max\.tasks/.test(t) ? t : false;
    });
    log(`bad config: ${(await validation.textContent()).replace(/\s+/g, ' ')}`);
    if (SHOTS) await page.locator('#editor').screenshot({ path: path.join(SHOTS, 'dashboard-editor.png') });
    const out = path.join(DIR, 'created.txt');
    fs.writeFileSync(out, 'a\nb\n');
    await page.locator('#ed-json').fill(JSON.stringify({
      'connector.class': sourceClass, 'max.tasks': '1', filename: out, 'connect.topicname': 'dashboard-created',
    }));
    await until('the good config validated', async () => (await validation.textContent()) === 'config valid');
    await page.locator('#ed-save').click();
    await until('created-by-ui in GET /connectors', async () => {
      const r = await rest('GET', '/connectors');
      return r.status === 200 && r.body.includes('created-by-ui');
    });
    await expectRestState('created-by-ui', 'RUNNING');
    await taskState('created-by-ui', 'RUNNING').waitFor();
    if (!(await page.locator('#editor').isHidden())) fail('the editor stayed open after creating');
    log('created from the page: RUNNING');

    // --- edit in the key/value form --------------------------------------------------------------------
    await row('created-by-ui').locator('button[data-action="edit"]').click();
    await until('the config loaded into the editor', async () => /dashboard-created/.test(await page.locator('#ed-json').inputValue()));
    await page.locator('input[name="ed-mode"][value="kv"]').check();
    await page.locator('#ed-kv-add').click();
    const last = page.locator('#ed-kv tbody tr').last();
    await last.locator('input').nth(0).fill('batch.size');
    await last.locator('input').nth(1).fill('7');
    await until('the edited config validated', async () => (await validation.textContent()) === 'config valid');
    await page.locator('#ed-save').click();
    await until('batch.size=7 in the REST config', async () => {
      const r = await rest('GET', '/connectors/created-by-ui/config?format=kafka');
      return r.status === 200 && r.body['batch.size'] === '7' && r.body.filename === out;
    });
    log('edited from the page (key/value form): the config has the new key, the rest unchanged');

    // --- delete ----------------------------------------------------------------------------------------
    await row('created-by-ui').locator('button[data-action="delete"]').click();
    await until('created-by-ui gone from GET /connectors', async () => {
      const r = await rest('GET', '/connectors');
      return r.status === 200 && !r.body.includes('created-by-ui');
    });
    await row('created-by-ui').waitFor({ state: 'detached' });
    log('deleted from the page');

    if (problems.length) fail('problems on the page:\n  ' + problems.join('\n  '));
    log('no console errors, no failed requests, no HTTP errors');

    // --- REST security applies to the dashboard -----------------------------------------------------
    if (ADMIN && VIEWER) {
      for (const p of ['/ui', '/ui/app.js']) {
        const anon = await rest('GET', p, '');
        if (anon.status !== 401) fail(`GET ${p} without credentials answered ${anon.status}, not 401`);
      }
      // A read-only user sees the page, and a change it tries is refused (403, shown in the banner).
      const viewer = await context.newPage();
      await viewer.setExtraHTTPHeaders({ Authorization: basic(VIEWER) });
      await viewer.goto(`${URL_BASE}/ui?refresh=1000`);
      const vrow = viewer.locator('tr.connector[data-connector="file-source"]');
      await vrow.locator('.connector-state [data-state="RUNNING"]').waitFor();
      await expectPauseRefused(viewer, vrow, "a read user's");
      log(`auth: /ui needs credentials (401), a read user sees the page and its pause gets 403: "${await viewer.locator('#banner').textContent()}"`);
    }
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

// The sign-in of a worker that takes bearer tokens only (its /ui shell is public).
async function bearerMain() {
  for (const p of ['/ui', '/ui/app.js', '/ui/app.css']) {
    const shell = await rest('GET', p, '');
    if (shell.status !== 200) fail(`GET ${p} without credentials answered ${shell.status}, not 200 (public shell)`);
  }
  const anon = await fetch(URL_BASE + '/connectors');
  if (anon.status !== 401 || !/Bearer/.test(anon.headers.get('www-authenticate') || '')) {
    fail(`GET /connectors without a token answered ${anon.status} (${anon.headers.get('www-authenticate')})`);
  }
  const { userDataDir, context } = await launch(undefined);
  const problems = [];
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('pageerror', (e) => problems.push(`uncaught exception: ${e.message}`));
    const unauthorized = [];
    page.on('response', (r) => {
      // 401s are the sign-in's business (counted); anything else at or above 400 is a problem.
      if (r.status() === 401) unauthorized.push(r.url());
      else if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
      if (!r.url().startsWith(URL_BASE)) problems.push(`outside fetch: ${r.url()}`);
    });

    const loaded = await page.goto(`${URL_BASE}/ui?refresh=500`);
    if (!loaded || loaded.status() !== 200) fail(`GET /ui answered ${loaded && loaded.status()}`);
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    if (await page.locator('tr.connector').count() !== 0) fail('connectors listed before signing in');
    // While the form waits, the page stops calling the API (no stream of 401s).
    await page.waitForTimeout(1500);
    const waiting = unauthorized.length;
    await page.waitForTimeout(1500);
    if (unauthorized.length !== waiting) fail(`the page kept calling the API while waiting for a token (${waiting} -> ${unauthorized.length} 401s)`);
    log(`sign-in form shown after ${waiting} unauthorized call(s), no calls while it waits`);

    // A wrong token is refused and forgotten.
    await page.fill('#sign-in-token', 'not-a-token');
    await page.click('#sign-in button[type="submit"]');
    await until('the refusal next to the form', async () =>
      (await page.locator('#sign-in').isVisible()) && /refused/.test(await page.locator('#sign-in-reason').textContent()));
    if (await page.evaluate(() => sessionStorage.getItem('rmq-connect-token')) !== null) fail('a refused token was kept');
    log('a wrong token: refused, the form asks again');

    // The admin's token: the page works, the token stays in this tab's sessionStorage only.
    await page.fill('#sign-in-token', BEARER);
    await page.click('#sign-in button[type="submit"]');
    const row = page.locator('tr.connector[data-connector="file-source"]');
    await row.locator('.connector-state [data-state="RUNNING"]').waitFor();
    if (await page.locator('#sign-in').isVisible()) fail('the form is still shown after signing in');
    if (!(await page.locator('#sign-out').isVisible())) fail('no sign-out button after signing in');
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('rmq-connect-token'),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    if (stored.session !== BEARER || stored.local !== 0 || stored.cookie !== '') fail(`token storage: ${JSON.stringify(stored)}`);
    await row.locator('button[data-action="pause"]').click();
    await expectRestState('file-source', 'PAUSED');
    await row.locator('button[data-action="resume"]').click();
    await expectRestState('file-source', 'RUNNING');
    log('signed in with the admin token: connectors listed, pause and resume reached the worker');

    // A reload keeps the tab signed in; signing out asks again and forgets the token.
    await page.reload();
    await row.locator('.connector-state [data-state="RUNNING"]').waitFor();
    await page.click('#sign-out');
    await page.locator('#sign-in').waitFor({ state: 'visible' });
    if (await page.evaluate(() => sessionStorage.getItem('rmq-connect-token')) !== null) fail('the token survived signing out');
    log('a reload stays signed in; sign out forgets the token');

    // A read token sees the page; its pause is refused (403 in the banner).
    if (BEARER_READ) {
      await page.fill('#sign-in-token', BEARER_READ);
      await page.click('#sign-in button[type="submit"]');
      await row.locator('.connector-state [data-state="RUNNING"]').waitFor();
      await expectPauseRefused(page, row, "a read token's");
      problems.splice(0, problems.length, ...problems.filter((p) => !/HTTP 403 .*\/pause/.test(p)));
      log('a read token sees the page and its pause gets 403');
    }
    if (problems.length) fail('problems on the page:\n  ' + problems.join('\n  '));
    log('no uncaught exceptions, no HTTP errors but the expected 401s and 403');
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
}

(BEARER ? bearerMain() : main()).then(() => log('PASS'), (e) => {
  console.error('FAIL: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
