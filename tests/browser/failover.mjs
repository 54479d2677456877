// The demo's promise, checked in a real browser: a page of www.demo.test keeps going when the
// site serving it dies. run.sh starts this inside a network namespace whose resolv.conf names
// 127.0.0.1; here nolbd serves www.demo.test on 127.0.0.1:53 with two nolb-stats sites, london
// (127.0.0.2:8080) and geneva (127.0.0.3:8080), and Debian's chromium, driven by
// playwright-core, loads http://www.demo.test:8080/, resolving the name through nolbd like any
// browser. Clicks make the serving site allocate until it exits (status 3, its simulated out of
// memory); the page must then carry on from the other site, within a bound, and say so in its
// event log and in window.nolbStats.switches.
//
//     node failover.mjs health-checked   nolbd checks GET /health; a degraded site is drained
//     node failover.mjs zero-admin       health = "none": only the browser's retry finds the
//                                        live site, because the dead one refuses connections
//
// From the environment (run.sh sets them): NOLBD, NOLB_STATS, NOLBCTL, CHROMIUM,
// NOLB_BROWSER_WORK (a private temporary folder) and NOLB_BROWSER_ARTIFACTS (screenshots, logs
// and result.json are left there). Every process it starts is stopped by its PID; every wait is
// bounded, and the whole test by DEADLINE_MS.
import { chromium } from 'playwright-core';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODE = process.argv[2];
const NAME = 'browser-failover' + (MODE === 'zero-admin' ? '-zero-admin' : '');
const URL = 'http://www.demo.test:8080/';
const SITES = [
  { name: 'london', address: '127.0.0.2' },
  { name: 'geneva', address: '127.0.0.3' },
];
const MEMORY_LIMIT_MB = 64;  // with 16 MB a click, the fifth click on one site ends it
const CHUNK_MB = 16;
const MAX_CLICKS = 12;
const FAILOVER_BOUND_MS = 15000;  // from the crash to the page showing the other site
const DEADLINE_MS = 90000;         // the whole test (ctest allows 300 s)

const env = (key) => {
  const v = process.env[key];
  if (!v) throw new Error(key + ' is not set (run this through tests/browser/run.sh)');
  return v;
};
const NOLBD = env('NOLBD');
const NOLB_STATS = env('NOLB_STATS');
const NOLBCTL = env('NOLBCTL');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WORK = env('NOLB_BROWSER_WORK');
const ARTIFACTS = env('NOLB_BROWSER_ARTIFACTS');

// ---- reporting, in the form of tests/system/lib.sh ------------------------------------------

let passed = 0;
let failed = 0;
const say = (text) => console.log(`[${NAME}] ${text}`);
function pass(what) {
  passed += 1;
  console.log(`[${NAME}] ok    ${what}`);
}
function fail(what, ...details) {
  failed += 1;
  console.error(`[${NAME}] FAIL  ${what}`);
  for (const d of details) for (const line of String(d).split('\n')) console.error('        ' + line);
}
function check(what, ok, ...details) {
  if (ok) pass(what);
  else fail(what, ...details);
  return ok;
}
// A step the rest depends on: report it and end the test.
class Stop extends Error {}
function need(what, ok, ...details) {
  if (!check(what, ok, ...details)) throw new Stop(what);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls fn() every `every` ms until it returns something truthy or `limit` ms pass.
async function poll(limit, fn, every = 100) {
  const end = Date.now() + limit;
  for (;;) {
    let value;
    try {
      value = await fn();
    } catch (e) {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() >= end) return undefined;
    await sleep(every);
  }
}

// ---- processes ------------------------------------------------------------------------------

const children = [];  // {name, child, exited: Promise<{code, signal, at}>, log}

function start(name, program, args) {
  const log = path.join(ARTIFACTS, name + '.log');
  const fd = fs.openSync(log, 'a');
  const child = spawn(program, args, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const proc = { name, child, log, result: null };
  proc.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      proc.result = { code, signal, at: Date.now() };
      resolve(proc.result);
    });
    child.on('error', (e) => {
      proc.result = { code: null, signal: null, at: Date.now(), error: e.message };
      resolve(proc.result);
    });
  });
  children.push(proc);
  return proc;
}

const running = (proc) => proc.result === null;

// SIGTERM, then SIGKILL after 5 s; returns the exit result.
async function stop(proc) {
  if (running(proc)) {
    proc.child.kill('SIGTERM');
    const done = await Promise.race([proc.exited, sleep(5000)]);
    if (!done) {
      proc.child.kill('SIGKILL');
      await Promise.race([proc.exited, sleep(2000)]);
    }
  }
  return proc.result;
}

function run(program, args, timeout = 10000) {
  return new Promise((resolve) => {
    execFile(program, args, { timeout }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

const readLog = (proc) => {
  try {
    return fs.readFileSync(proc.log, 'utf8');
  } catch (e) {
    return '';
  }
};
const tail = (text, n = 20) => text.trimEnd().split('\n').slice(-n).join('\n');

// ---- the pieces -----------------------------------------------------------------------------

const sites = {};

async function startSite(site) {
  const proc = start(site.name, NOLB_STATS, [
    '--site', site.name, '--listen', site.address + ':8080',
    '--memory-limit', String(MEMORY_LIMIT_MB), '--chunk', String(CHUNK_MB),
  ]);
  sites[site.name] = proc;
  const up = await poll(10000, async () => {
    if (!running(proc)) return false;
    const r = await fetch(`http://${site.address}:8080/health`, { signal: AbortSignal.timeout(1000) });
    return r.ok;
  });
  need(`${site.name} serves on ${site.address}:8080`, up, 'log:', tail(readLog(proc)));
}

const control = path.join(WORK, 'nolbd.sock');
let nolbd = null;

async function nolbctl(...args) {
  const r = await run(NOLBCTL, ['--socket', control, '--timeout', '3', ...args]);
  if (r.code !== 0) return null;
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    return null;
  }
}

// The addresses nolbd publishes now for www.demo.test, sorted, from `nolbctl explain`.
async function published() {
  const d = await nolbctl('explain', 'www.demo.test', 'A', '--json');
  if (!d || !Array.isArray(d.addresses)) return null;
  return d.addresses.filter((a) => a.included).map((a) => a.address).sort();
}

async function startNolbd() {
  const template = fs.readFileSync(path.join(HERE, MODE + '.toml.in'), 'utf8');
  const conf = path.join(WORK, 'nolbd.toml');
  fs.writeFileSync(conf, template.replaceAll('@CONTROL@', control));
  fs.copyFileSync(conf, path.join(ARTIFACTS, 'nolbd.toml'));
  // run.sh runs as root, which nolbd keeps only when told: the test's files are private.
  nolbd = start('nolbd', NOLBD, ['-c', conf, '--user', 'root']);
  const ready = await poll(15000, () => !running(nolbd) || /msg="?ready/.test(readLog(nolbd)));
  need('nolbd starts and logs msg=ready', ready && running(nolbd), 'log:', tail(readLog(nolbd)));
  const both = SITES.map((s) => s.address).sort().join(' ');
  const all = await poll(15000, async () => ((await published()) || []).join(' ') === both, 200);
  need(`nolbd publishes both sites (${both})`, all, 'nolbctl status:',
    (await run(NOLBCTL, ['--socket', control, 'status'])).stdout);
  // The browser asks the system's resolver, which asks nolbd: check that path once by hand.
  const dig = await run('dig', ['+time=1', '+tries=2', '+short', 'www.demo.test', 'A']);
  need('the namespace resolves www.demo.test through nolbd (dig with resolv.conf)',
    dig.stdout.trim().split('\n').sort().join(' ') === both, dig.stdout + dig.stderr);
}

// ---- the browser ----------------------------------------------------------------------------

let context = null;
let page = null;
const browserLog = [];
const note = (line) => browserLog.push(new Date().toISOString() + ' ' + line);

async function startBrowser() {
  context = await chromium.launchPersistentContext(path.join(WORK, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    timeout: 30000,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => note(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => note(`page error: ${e.message}`));
  page.on('requestfailed', (r) =>
    note(`request failed: ${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
  // Which address answered each request: the browser's choice among nolbd's addresses.
  page.on('response', async (r) => {
    const from = await r.serverAddr().catch(() => null);
    note(`response: ${r.status()} ${r.request().method()} ${r.url()} from ` +
      (from ? `${from.ipAddress}:${from.port}` : '?'));
  });
}

const exposed = () => page.evaluate(() => JSON.parse(JSON.stringify(window.nolbStats)));
const eventLog = () => page.evaluate(() =>
  [...document.querySelectorAll('#log li .text')].map((t) => t.textContent).reverse());

// Whether a chart shows data: pixels in a series' colour. The grid and axis labels are grey
// and drawn with or without samples; every series is a saturated colour.
const drawn = (id) => page.evaluate((id) => {
  const c = document.getElementById(id);
  if (!c || !c.width || !c.height) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) {
    const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
    if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 60) ink++;
  }
  return ink > 20;
}, id);

async function screenshot(file) {
  const where = path.join(ARTIFACTS, file);
  await page.screenshot({ path: where, fullPage: true });
  say(`screenshot: ${where}`);
}

// ---- the test -------------------------------------------------------------------------------

async function test() {
  for (const s of SITES) await startSite(s);
  await startNolbd();
  await startBrowser();

  // --- the page loads through nolbd and its charts receive data
  let loaded = true;
  try {
    await page.goto(URL, { waitUntil: 'load', timeout: 20000 });
  } catch (e) {
    loaded = false;
    note('goto: ' + e.message);
  }
  need(`the page loads from ${URL}`, loaded, 'browser log:', tail(browserLog.join('\n')));
  const first = await poll(10000, async () => {
    const x = await exposed();
    return x.samples >= 1 ? x : null;
  });
  need('the event stream delivers samples', first, JSON.stringify(await exposed()));
  const grown = await poll(10000, async () => (await exposed()).samples >= first.samples + 3);
  check('window.nolbStats.samples grows (about two a second)', grown, JSON.stringify(await exposed()));
  const before = await exposed();
  const serving = before.site;
  const other = SITES.find((s) => s.name !== serving);
  need('the page is served by london or geneva', SITES.some((s) => s.name === serving) && other,
    `window.nolbStats.site = ${serving}`);
  const siteText = (await page.textContent('#site')).trim();
  check(`#site shows the serving site (${serving})`, siteText === serving, `#site: ${siteText}`);
  const addressText = (await page.textContent('#address')).trim();
  const servingAddress = SITES.find((s) => s.name === serving).address;
  check(`#address shows its address (${servingAddress})`, addressText.startsWith(servingAddress),
    `#address: ${addressText}`);
  check('#viewers counts this page', Number((await page.textContent('#viewers')).trim()) >= 1);
  check('the memory chart shows data', await poll(3000, () => drawn('memory-chart')));
  check('the CPU chart shows data', await poll(3000, () => drawn('cpu-chart')));
  await screenshot('before.png');

  // --- the serving site runs out of memory; the page must carry on from the other
  const timings = await crashAndFailOver(serving, 'after.png');
  timings.mode = MODE;
  fs.writeFileSync(path.join(ARTIFACTS, 'result.json'), JSON.stringify(timings, null, 2) + '\n');
  say(`failover (${MODE}): ${timings.from} exited -> page on ${timings.to}: ` +
    `reconnect_ms ${timings.reconnect_ms} (the page's measure: from noticing the loss to the ` +
    `first event of ${timings.to}), wall ${timings.wall_ms} ms (from the page receiving ` +
    `${timings.from}'s out-of-memory reply to that event)`);
}

// Clicks until the site serving the page runs out of memory, checks that its process exits
// with status 3 and that the page goes on from the other site within FAILOVER_BOUND_MS, takes
// a screenshot, and returns the timings.
async function crashAndFailOver(serving, shot) {
  // Each click's POST /malloc goes to the host name too, so whichever site the browser reaches
  // answers it; the page's own stream goes to the same first address, so that is the one
  // that fills up.
  const chart = await page.locator('#memory-chart').boundingBox();
  let crashed = null;
  let repliedAt = 0;  // when the out-of-memory reply reached us: the site exits right after it
  let drainChecked = false;
  const clicks = [];
  for (let i = 1; i <= MAX_CLICKS && !crashed; i++) {
    let body = null;
    let status = 0;
    let answeredAt = 0;
    try {
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().split('?')[0].endsWith('/malloc'), { timeout: 5000 }),
        page.mouse.click(chart.x + chart.width / 2, chart.y + chart.height / 2),
      ]);
      answeredAt = Date.now();
      status = response.status();
      body = await response.json().catch(() => null);
    } catch (e) {
      note(`click ${i}: ${e.message}`);
    }
    clicks.push({ click: i, status, site: body?.site, used_mb: body?.memory_used_mb });
    say(`click ${i}: ${status} from ${body?.site ?? '?'}, ${body?.memory_used_mb ?? '?'} of ` +
      `${body?.memory_limit_mb ?? '?'} MB${body?.degraded ? ', degraded' : ''}` +
      `${body?.out_of_memory ? ', out of memory' : ''}`);
    if (body?.out_of_memory) {
      crashed = body.site;
      repliedAt = answeredAt;
      break;
    }
    // With health checks, a degraded site (/health 503) must leave nolbd's answers.
    if (MODE === 'health-checked' && body?.degraded && !drainChecked) {
      drainChecked = true;
      const address = SITES.find((s) => s.name === body.site).address;
      const t0 = Date.now();
      const gone = await poll(5000, async () => {
        const p = await published();
        return p && !p.includes(address);
      }, 50);
      check(`nolbd drops degraded ${body.site} (/health 503) from its answers` +
        (gone ? ` (${Date.now() - t0} ms)` : ''), gone,
        'published now: ' + JSON.stringify(await published()));
    }
    await sleep(300);
  }
  need(`a site runs out of memory within ${MAX_CLICKS} clicks`, crashed, JSON.stringify(clicks));
  check(`the site that ran out of memory is the one serving the page (${serving})`,
    crashed === serving, `crashed: ${crashed}`);
  const result = await Promise.race([sites[crashed].exited, sleep(5000)]);
  need(`${crashed}'s process exits with status 3 (simulated out of memory)`,
    result && result.code === 3, 'exit: ' + JSON.stringify(result), 'log:',
    tail(readLog(sites[crashed])));
  // The crash as the page saw it: the arrival of the out-of-memory reply (the site exits right
  // after sending it), from the page's resource timing, on the clock that stamps its switches.
  // Node hears of the reply and of the exit a few milliseconds late, so its own times are
  // only the fallback.
  const replyInPage = await page.evaluate(() => {
    const e = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('/malloc')).pop();
    return e && e.responseEnd ? performance.timeOrigin + e.responseEnd : null;
  });
  const crashAt = replyInPage ?? Math.min(repliedAt, result.at);
  const survivor = SITES.find((s) => s.name !== crashed).name;

  // --- the page carries on from the other site
  let switched = null;
  try {
    await page.waitForFunction(
      ([dead, live]) => window.nolbStats.site === live &&
        window.nolbStats.switches.some((s) => s.from === dead && s.to === live),
      [crashed, survivor], { timeout: FAILOVER_BOUND_MS, polling: 50 });
    switched = (await exposed()).switches.find((s) => s.from === crashed && s.to === survivor);
  } catch (e) {
    note('waiting for the switch: ' + e.message);
  }
  const wallMs = switched ? switched.at - crashAt : null;
  need(`the page resumes on ${survivor} within ${FAILOVER_BOUND_MS / 1000} s of ${crashed}'s exit`,
    switched && wallMs <= FAILOVER_BOUND_MS,
    'window.nolbStats: ' + JSON.stringify(await exposed()),
    'event log:\n' + (await eventLog()).join('\n'),
    'browser log:\n' + tail(browserLog.join('\n'), 30));
  const lines = await eventLog();
  const pattern = new RegExp(
    `^lost ${crashed} after [0-9.]+ s, reconnected to ${survivor} in [0-9.]+ (ms|s)$`);
  const line = lines.find((l) => pattern.test(l));
  check(`the event log says "lost ${crashed} after ..., reconnected to ${survivor} in ..."`, line,
    lines.join('\n'));
  const samplesNow = (await exposed()).samples;
  check(`the charts go on receiving data from ${survivor}`,
    await poll(5000, async () => (await exposed()).samples >= samplesNow + 2));
  check(`#site shows ${survivor}`, (await page.textContent('#site')).trim() === survivor);
  await sleep(1000);  // a little of the new site on the charts, for the screenshot
  await screenshot(shot);
  return {
    from: crashed,
    to: survivor,
    reconnect_ms: switched.reconnect_ms,
    wall_ms: Math.round(wallMs),
    lost_after_ms: switched.lost_after_ms,
    event_log_line: line ?? null,
    clicks,
  };
}

async function cleanUp() {
  if (context) {
    await Promise.race([context.close().catch(() => {}), sleep(10000)]);
  }
  fs.writeFileSync(path.join(ARTIFACTS, 'browser.log'), browserLog.join('\n') + '\n');
  for (const proc of children.filter((p) => p !== nolbd)) await stop(proc);
  if (nolbd) {
    const r = await stop(nolbd);
    check('nolbd exits 0 on SIGTERM', r && r.code === 0, 'exit: ' + JSON.stringify(r),
      tail(readLog(nolbd)));
  }
  // Under AddressSanitizer builds (contrib/test.sh's second run), the servers' logs must be
  // free of reports; the simulated crash is an _exit, not a sanitizer finding.
  const report = /ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer/;
  for (const proc of [nolbd, ...Object.values(sites)].filter(Boolean)) {
    check(`${proc.name}'s log has no sanitizer report`, !report.test(readLog(proc)),
      tail(readLog(proc), 40));
  }
  say(`logs: ${ARTIFACTS}/{nolbd,london,geneva,browser}.log`);
}

async function main() {
  if (MODE !== 'health-checked' && MODE !== 'zero-admin') {
    console.error('usage: node failover.mjs health-checked|zero-admin');
    process.exit(2);
  }
  const deadline = setTimeout(() => {
    fail(`the test ends within ${DEADLINE_MS / 1000} s`);
    for (const p of children) if (running(p)) p.child.kill('SIGKILL');
    console.log(`[${NAME}] ${passed} passed, ${failed} failed`);
    process.exit(1);
  }, DEADLINE_MS);
  try {
    await test();
  } catch (e) {
    if (!(e instanceof Stop)) fail('the test runs to its end', e.stack || e.message);
  } finally {
    try {
      await cleanUp();
    } catch (e) {
      fail('clean-up', e.stack || e.message);
    }
  }
  clearTimeout(deadline);
  console.log(`[${NAME}] ${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main();
