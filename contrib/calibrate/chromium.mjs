// One client, a page in Debian's chromium (driven by playwright-core), in a closed loop:
//
//     node contrib/calibrate/chromium.mjs [--stream] [--verbose] URL PERIOD_MS DURATION_S
//
// The browser is /usr/bin/chromium (CHROMIUM overrides it), headless, with a fresh profile in a
// temporary folder and the flags the project's browser tests use. It opens URL's origin at
// /health, then runs the loop inside the page: fetch(PATH, {cache: 'no-store'}), PATH being
// URL's path (e.g. /stats), with the browser's defaults for everything measured: its resolver
// and host cache, its connection pool (kept-alive connections, reused), its connect rules and
// no timeout of the page's own. With --stream the page also opens new EventSource('/events').
// --verbose writes the page's console, failed requests and each response's server address to
// stderr.
//
// Request k+1 starts at max(start_k + PERIOD_MS, end_k); no request starts after DURATION_S
// seconds, counted from the first request's start (the browser's launch takes seconds). On stdout, one line per event (see README.md):
//     S <id> <epoch_ms>
//     E <id> <epoch_ms> <status> <site> <error>
//     V <epoch_ms> <site>          (--stream) an event message, with its "site"
//     X <epoch_ms> error           (--stream) an EventSource error event
// Times are the page's Date.now(). A failed fetch's error is chromium's net error for it
// (ERR_CONNECTION_REFUSED is "refused", ERR_CONNECTION_TIMED_OUT "timeout", ...).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const flags = new Set(process.argv.slice(2).filter((a) => a.startsWith('--')));
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = [...flags].filter((f) => f !== '--stream' && f !== '--verbose');
const [url, periodArg, durationArg] = positional;
const period = Number(periodArg);
const duration = Number(durationArg);
if (positional.length !== 3 || unknown.length || !(period >= 0) || !(duration >= 0)) {
  console.error('usage: node chromium.mjs [--stream] [--verbose] URL PERIOD_MS DURATION_S');
  process.exit(2);
}
const STREAM = flags.has('--stream');
const VERBOSE = flags.has('--verbose');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const target = new URL(url);
const loopPath = target.pathname + target.search;

const out = (line) => fs.writeSync(1, line + '\n');
const note = (text) => {
  if (VERBOSE) fs.writeSync(2, `[chromium ${Date.now()}] ${text}\n`);
};

const NET_ERRORS = {
  ERR_CONNECTION_REFUSED: 'refused',
  ERR_CONNECTION_TIMED_OUT: 'timeout',
  ERR_TIMED_OUT: 'timeout',
  ERR_CONNECTION_RESET: 'reset',
  ERR_NAME_NOT_RESOLVED: 'dns',
  ERR_NAME_RESOLUTION_FAILED: 'dns',
};
const netToken = (text) => {
  const name = String(text || 'failed').replace(/^net::/, '').replace(/\s+/g, '_');
  return NET_ERRORS[name] || name;
};

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'nolb-cal-chromium-'));
let context = null;
let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  if (context) {
    await Promise.race([context.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
  }
  fs.rmSync(profile, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(143));
process.on('SIGINT', () => shutdown(130));

// The net errors of failed loop fetches, in order: a page sees only "TypeError: Failed to
// fetch", the browser knows why. Requests of the loop are one at a time, so the n-th failure
// belongs to the n-th failed fetch.
const failures = [];
let failureWaiter = null;
function nextFailure(limit) {
  if (failures.length) return Promise.resolve(failures.shift());
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      failureWaiter = null;
      resolve('failed');
    }, limit);
    failureWaiter = (text) => {
      clearTimeout(timer);
      failureWaiter = null;
      resolve(text);
    };
  });
}

let finished;
const done = new Promise((r) => (finished = r));
let queue = Promise.resolve();  // lines are printed in the order the page reported them
function report(line) {
  queue = queue.then(async () => {
    if (line === 'DONE') return finished();
    const parts = line.split(' ');
    if (parts[0] === 'E' && parts[5] === '?') parts[5] = netToken(await nextFailure(2000));
    out(parts.join(' '));
  });
}

try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('requestfailed', (r) => {
    const failure = r.failure()?.errorText;
    note(`request failed: ${r.method()} ${r.url()} (${r.resourceType()}): ${failure}`);
    const u = new URL(r.url());
    if (r.resourceType() !== 'fetch' || u.pathname + u.search !== loopPath) return;
    if (failureWaiter) failureWaiter(failure);
    else failures.push(failure);
  });
  if (VERBOSE) {
    page.on('console', (m) => note(`console.${m.type()}: ${m.text()}`));
    page.on('response', async (r) => {
      const from = await r.serverAddr().catch(() => null);
      note(`response ${r.status()} ${r.url()} from ${from ? `${from.ipAddress}:${from.port}` : '?'}`);
    });
  }
  await page.exposeFunction('nolbCalReport', report);
  await page.goto(target.origin + '/health', { timeout: 60000 });
  await page.evaluate(
    ({ loopPath, period, duration, stream }) => {
      const report = window.nolbCalReport;
      const siteOf = (text) => {
        try {
          const site = JSON.parse(text).site;
          if (typeof site === 'string' && site && !/\s/.test(site)) return site;
        } catch {
          // not JSON
        }
        const m = /"site"\s*:\s*"([^"\s]+)"/.exec(text);
        return m ? m[1] : '-';
      };
      if (stream) {
        const es = new EventSource('/events');
        es.onmessage = (e) => report(`V ${Date.now()} ${siteOf(e.data)}`);
        es.onerror = () => report(`X ${Date.now()} error`);
      }
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      (async () => {
        const deadline = Date.now() + duration * 1000;
        for (let k = 0; ; ++k) {
          const start = Date.now();
          if (start >= deadline) break;
          report(`S ${k} ${start}`);
          let status = 0;
          let site = '-';
          let error = '-';
          try {
            const r = await fetch(loopPath, { cache: 'no-store' });
            status = r.status;
            site = siteOf(await r.text());
          } catch (e) {
            error = '?';  // the driver puts the browser's net error here
          }
          report(`E ${k} ${Date.now()} ${status} ${site} ${error}`);
          const wait = start + period - Date.now();
          if (wait > 0) await sleep(wait);
        }
        report('DONE');
      })();
    },
    { loopPath, period, duration, stream: STREAM },
  );
  await done;
  await queue;
  await shutdown(0);
} catch (e) {
  console.error(`chromium.mjs: ${e.message}`);
  await shutdown(1);
}
