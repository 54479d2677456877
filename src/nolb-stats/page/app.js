// The page's half of the demonstration: it follows a service, not a server. Every request
// (the event stream, each click's POST /malloc) goes to the host name the page was loaded from,
// never to an address it saw before, so when a site dies the browser resolves and connects
// again and lands on whichever site DNS names and answers. A watchdog reopens the stream when
// events stop, because a site that hangs or vanishes without closing its connection is
// otherwise never noticed. Each switch to another site is logged, marked on the charts, and
// kept in window.nolbStats for tests. The charts are drawn here on <canvas>, with no library.
(function () {
  'use strict';

  const WATCHDOG_MS = 2000;   // no event for this long: the stream is dead, whatever it says
  const WINDOW_MS = 120000;   // the charts show the last two minutes
  const GAP_MS = 1500;        // samples further apart than this are not joined by a line
  const LOG_LIMIT = 200;

  const COLORS = {
    used: '#3767de',
    limit: '#d64545',
    degrade: '#d48806',
    rss: '#17a2b8',
    cpu: '#1c9a5e',
    grid: '#edf0f5',
    axis: '#8a93a6',
    switch: '#7a4fd6',
    restart: '#8a93a6',
  };

  const $ = (id) => document.getElementById(id);
  const now = () => performance.now();

  // What tests read. `site` and `address` follow the stream; `switches` grows on each failover.
  const exposed = {
    site: document.body.dataset.site,
    address: document.body.dataset.address,
    switches: [],
    samples: 0,
  };
  window.nolbStats = exposed;

  const samples = [];  // {t, site, used, limit, degrade, rss, cpu}
  const markers = [];  // {t, label, color}

  // The page came from this site, so it counts as connected to it until the stream says
  // otherwise; a stream that never opens is then a loss of that site like any other.
  let current = { site: exposed.site, pid: null, degraded: false, fault: 'none', fromPage: true };
  let connectedSince = now();
  let lost = null;  // {site, at, after, reason} while reconnecting
  let source = null;
  let openedAt = 0;
  let lastEventAt = 0;
  let retryDelay = 0;
  let retryTimer = null;

  // ---- formatting -------------------------------------------------------------------------

  function seconds(ms) {
    return (ms / 1000).toFixed(1) + ' s';
  }
  function milliseconds(ms) {
    return ms < 1000 ? Math.round(ms) + ' ms' : seconds(ms);
  }
  function duration(s) {
    if (s < 60) return s.toFixed(0) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.floor(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function clock(date) {
    const p = (n, w) => String(n).padStart(w, '0');
    return p(date.getHours(), 2) + ':' + p(date.getMinutes(), 2) + ':' + p(date.getSeconds(), 2) +
      '.' + Math.floor(date.getMilliseconds() / 100);
  }
  // A stable colour per site name (FNV-1a over its characters), so each site keeps its colour
  // in the header and on its switch markers, in every tab.
  const SITE_COLORS = ['#3767de', '#7a4fd6', '#0f9b8e', '#d6336c', '#e8590c', '#2f9e44', '#1098ad',
    '#c2410c'];
  function siteColor(name) {
    let h = 2166136261;
    for (const c of String(name)) {
      h ^= c.charCodeAt(0);
      h = Math.imul(h, 16777619) >>> 0;
    }
    return SITE_COLORS[h % SITE_COLORS.length];
  }

  // ---- event log ----------------------------------------------------------------------------

  function log(kind, text) {
    const list = $('log');
    const item = document.createElement('li');
    item.className = kind + ' fresh';
    const time = document.createElement('time');
    time.textContent = clock(new Date());
    const dot = document.createElement('span');
    dot.className = 'kind';
    const body = document.createElement('span');
    body.className = 'text';
    body.textContent = text;
    item.append(time, dot, body);
    list.prepend(item);
    while (list.children.length > LOG_LIMIT) list.lastChild.remove();
  }

  function setStatus(kind, text) {
    $('status').className = 'status ' + kind;
    $('status-text').textContent = text;
  }

  // ---- the stream ---------------------------------------------------------------------------

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    // Relative URL: same scheme, host name and port as the page, resolved afresh.
    const es = new EventSource('/events');
    source = es;
    openedAt = now();
    es.onmessage = (e) => {
      if (source === es) onEvent(e.data);
    };
    es.onerror = () => {
      // EventSource would retry by itself, but not after an HTTP error, and never when the
      // connection merely goes quiet; one reconnect path for every case is simpler to trust.
      if (source === es) lose('stream closed');
    };
  }

  function lose(reason) {
    if (source) {
      source.close();
      source = null;
    }
    if (!lost) {
      const t = now();
      lost = { site: current.site, at: t, after: t - connectedSince, reason: reason };
      setStatus('reconnecting', 'reconnecting');
      log('warn', current.site + ': ' + reason + ' — reconnecting by host name');
    }
    // First retry at once (the next address may answer), then back off to at most 2 s.
    const delay = retryDelay;
    retryDelay = Math.min(Math.max(retryDelay * 2, 250), 2000);
    retryTimer = setTimeout(connect, delay);
  }

  function watchdog() {
    if (source && now() - Math.max(openedAt, lastEventAt) > WATCHDOG_MS) {
      lose('no data for ' + seconds(WATCHDOG_MS));
    }
  }

  function onEvent(text) {
    let d;
    try {
      d = JSON.parse(text);
    } catch (e) {
      return;
    }
    const t = now();
    lastEventAt = t;
    retryDelay = 0;

    if (lost) {
      const reconnectMs = t - lost.at;
      if (d.site !== lost.site) {
        // lost_after_ms: from the first event of the old site to noticing it was gone;
        // reconnect_ms: from noticing to the first event of the new one.
        exposed.switches.push({
          from: lost.site,
          to: d.site,
          lost_after_ms: Math.round(lost.after),
          reconnect_ms: Math.round(reconnectMs),
          at: Date.now(),
        });
        markers.push({ t: t, label: d.site, color: siteColor(d.site) });
        log('switch', 'lost ' + lost.site + ' after ' + seconds(lost.after) +
          ', reconnected to ' + d.site + ' in ' + milliseconds(reconnectMs));
      } else if (current.pid !== null && d.pid !== current.pid) {
        markers.push({ t: t, label: d.site + ' restarted', color: COLORS.restart });
        log('info', d.site + ' restarted (pid ' + d.pid + '), back in ' + milliseconds(reconnectMs));
      } else {
        log('info', 'reconnected to ' + d.site + ' in ' + milliseconds(reconnectMs));
      }
      lost = null;
      connectedSince = t;
    } else if (current.fromPage) {
      log('info', 'connected to ' + d.site + ' at ' + d.address +
        (d.site !== current.site ? ' (the page came from ' + current.site + ')' : ''));
    }

    const sameSite = !current.fromPage && current.site === d.site && current.pid === d.pid;
    if (d.degraded && (!sameSite || !current.degraded)) {
      log('warn', d.site + ' is degraded (' + d.memory_used_mb + ' of ' + d.memory_limit_mb +
        ' MB): /health answers 503, so DNS drains it');
    }
    if (d.fault && d.fault !== 'none' && (!sameSite || current.fault !== d.fault)) {
      log('error', d.site + ': injected fault "' + d.fault + '"');
    }

    current = { site: d.site, pid: d.pid, degraded: d.degraded, fault: d.fault, fromPage: false };
    exposed.site = d.site;
    exposed.address = d.address;
    exposed.samples += 1;
    setStatus('live', 'live · ' + d.site);

    samples.push({
      t: t,
      site: d.site,
      used: d.memory_used_mb,
      limit: d.memory_limit_mb,
      degrade: d.memory_limit_mb * d.degrade_at_percent / 100,
      rss: d.rss_mb,
      cpu: d.cpu_percent,
    });
    while (samples.length && samples[0].t < t - WINDOW_MS - 5000) samples.shift();
    while (markers.length && markers[0].t < t - WINDOW_MS - 5000) markers.shift();

    showFigures(d);
    draw();
  }

  function showFigures(d) {
    $('site').textContent = d.site;
    document.title = d.site + ' · nolb demo';
    document.documentElement.style.setProperty('--site', siteColor(d.site));
    $('address').textContent = d.address;
    $('pid').textContent = d.pid;
    $('uptime').textContent = duration(d.uptime_s);
    $('memory-used').textContent = d.memory_used_mb;
    $('memory-limit').textContent = d.memory_limit_mb;
    $('rss').textContent = d.rss_mb.toFixed(1);
    $('cpu').textContent = d.cpu_percent.toFixed(1);
    $('viewers').textContent = d.viewers;
    $('hint-chunk').textContent = d.chunk_mb;
    $('hint-degrade').textContent = d.degrade_at_percent;

    const ratio = d.memory_limit_mb ? d.memory_used_mb / d.memory_limit_mb : 0;
    const meter = $('memory-meter');
    meter.style.width = Math.min(100, ratio * 100).toFixed(1) + '%';
    meter.className = 'fill' + (ratio >= 1 ? ' full' : d.degraded ? ' degraded' : '');
    $('degrade-mark').style.left = d.degrade_at_percent + '%';

    const health = $('health');
    if (d.fault && d.fault !== 'none') {
      health.textContent = d.fault;
      health.className = 'pill fault';
    } else {
      health.textContent = d.degraded ? 'degraded' : 'ok';
      health.className = 'pill ' + (d.degraded ? 'degraded' : 'ok');
    }
  }

  // ---- clicks: allocate on whichever site the host name reaches ------------------------------

  function floatLabel(x, y, text) {
    const el = document.createElement('div');
    el.className = 'float';
    el.textContent = text;
    el.style.left = x + 'px';
    el.style.top = y + 'px';
    document.body.append(el);
    setTimeout(() => el.remove(), 1000);
  }

  async function allocate() {
    let response;
    try {
      // The site shown goes along: a site the page is not watching refuses the click (409).
      const shown = current && current.site ? '?site=' + encodeURIComponent(current.site) : '';
      response = await fetch('/malloc' + shown, { method: 'POST', cache: 'no-store' });
    } catch (e) {
      log('error', 'allocation failed: no site answered');
      return;
    }
    let d = null;
    try {
      d = await response.json();
    } catch (e) {
      d = null;
    }
    if (response.ok && d) {
      log('alloc', d.site + ' allocated ' + d.allocated_mb + ' MB: ' + d.memory_used_mb + ' of ' +
        d.memory_limit_mb + ' MB in use');
    } else if (response.status === 409 && d && d.site) {
      // The host name now reaches another site than the one on screen: follow it.
      log('warn', 'the click reached ' + d.site + ', not ' + d.shown + ': following ' + d.site);
      lose('clicks now reach ' + d.site);
    } else if (d && d.out_of_memory) {
      log('error', d.site + ' is out of memory after ' + d.memory_used_mb + ' MB and exits');
    } else {
      log('warn', 'allocation answered ' + response.status +
        (d && d.site ? ' by ' + d.site : '') + (d && d.error ? ': ' + d.error : ''));
    }
  }

  document.addEventListener('click', (e) => {
    if (e.button !== 0 || (e.target.closest && e.target.closest('a, button, [data-no-malloc]'))) {
      return;
    }
    floatLabel(e.clientX, e.clientY, '+' + $('hint-chunk').textContent + ' MB');
    allocate();
  });

  // ---- charts -------------------------------------------------------------------------------

  const charts = [
    {
      canvas: $('memory-chart'),
      legend: $('memory-legend'),
      floor: 16,
      series: [
        { key: 'limit', label: 'limit', color: COLORS.limit, dash: [6, 4], width: 1.5 },
        { key: 'degrade', label: 'degrade at', color: COLORS.degrade, dash: [2, 3], width: 1.5 },
        { key: 'used', label: 'used (pseudo)', color: COLORS.used, width: 2.5, fill: true },
        // Drawn last: it runs just above "used", and would otherwise vanish under it.
        { key: 'rss', label: 'RSS (real)', color: COLORS.rss, width: 2 },
      ],
    },
    {
      canvas: $('cpu-chart'),
      legend: $('cpu-legend'),
      floor: 5,
      series: [{ key: 'cpu', label: 'process CPU', color: COLORS.cpu, width: 2, fill: true }],
    },
  ];

  function buildLegend(chart) {
    // Measured lines first, then the dashed thresholds.
    const ordered = chart.series.filter((s) => !s.dash).concat(chart.series.filter((s) => s.dash));
    for (const s of ordered) {
      const key = document.createElement('span');
      key.className = 'key';
      const swatch = document.createElement('span');
      swatch.className = 'swatch' + (s.dash ? (s.dash[0] > 3 ? ' dashed' : ' dotted') : '');
      swatch.style.color = s.color;
      key.append(swatch, document.createTextNode(s.label));
      chart.legend.append(key);
    }
  }

  // Axis maxima that divide into four readable steps.
  function niceCeil(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  // The time axis grows with the data, from 30 s to two minutes, so a page that has just
  // opened shows lines rather than a sliver at the right edge.
  function windowMs(tNow) {
    const first = samples.length ? samples[0].t : tNow;
    const age = tNow - first + 5000;
    return age <= 30000 ? 30000 : age <= 60000 ? 60000 : WINDOW_MS;
  }

  function drawChart(chart, tNow) {
    const canvas = chart.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (!w || !h) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);

    const pad = { left: 40, right: 8, top: 18, bottom: 22 };
    const pw = w - pad.left - pad.right;
    const ph = h - pad.top - pad.bottom;
    const span = windowMs(tNow);
    const t0 = tNow - span;
    const visible = samples.filter((s) => s.t >= t0 - GAP_MS);

    let max = chart.floor;
    for (const s of visible) for (const ser of chart.series) max = Math.max(max, s[ser.key] || 0);
    max = niceCeil(max * 1.08);

    const x = (t) => pad.left + ((t - t0) / span) * pw;
    const y = (v) => pad.top + ph - (v / max) * ph;

    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      const yy = Math.round(y(v)) + 0.5;
      ctx.strokeStyle = COLORS.grid;
      ctx.beginPath();
      ctx.moveTo(pad.left, yy);
      ctx.lineTo(pad.left + pw, yy);
      ctx.stroke();
      ctx.fillStyle = COLORS.axis;
      ctx.textAlign = 'right';
      ctx.fillText(Number.isInteger(v) ? String(v) : v.toFixed(1), pad.left - 6, yy);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    const step = span <= 30000 ? 10 : span <= 60000 ? 15 : 30;
    for (let s = 0; s <= span / 1000; s += step) {
      const xx = x(tNow - s * 1000);
      ctx.fillText(s === 0 ? 'now' : '−' + s + ' s', Math.min(xx, pad.left + pw - 12), pad.top + ph + 6);
    }

    ctx.save();
    ctx.beginPath();
    ctx.rect(pad.left, 0, pw, h);
    ctx.clip();

    // Switch markers under the lines, labelled with the site the page moved to.
    for (const m of markers) {
      if (m.t < t0) continue;
      const xx = Math.round(x(m.t)) + 0.5;
      ctx.strokeStyle = m.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(xx, pad.top - 2);
      ctx.lineTo(xx, pad.top + ph);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = 'bold 11px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      const textW = ctx.measureText(m.label).width;
      const lx = xx + 4 + textW > pad.left + pw ? xx - 4 - textW : xx + 4;
      ctx.fillStyle = 'rgba(255,255,255,0.85)';
      ctx.fillRect(lx - 2, pad.top - 2, textW + 4, 14);
      ctx.fillStyle = m.color;
      ctx.textAlign = 'left';
      ctx.fillText(m.label, lx, pad.top - 1);
    }

    // Lines break across gaps and across sites, so an outage is visible as a hole.
    for (const ser of chart.series) {
      const runs = [];
      let run = [];
      let prev = null;
      for (const s of visible) {
        if (prev && (s.t - prev.t > GAP_MS || s.site !== prev.site)) {
          runs.push(run);
          run = [];
        }
        run.push(s);
        prev = s;
      }
      if (run.length) runs.push(run);
      for (const r of runs) {
        if (ser.fill && r.length > 1) {
          const grad = ctx.createLinearGradient(0, pad.top, 0, pad.top + ph);
          grad.addColorStop(0, ser.color + '38');
          grad.addColorStop(1, ser.color + '05');
          ctx.fillStyle = grad;
          ctx.beginPath();
          ctx.moveTo(x(r[0].t), y(0));
          for (const s of r) ctx.lineTo(x(s.t), y(s[ser.key]));
          ctx.lineTo(x(r[r.length - 1].t), y(0));
          ctx.closePath();
          ctx.fill();
        }
        if (r.length === 1) {
          // A lone sample (the first, or one between two gaps) is a dot, not an invisible line.
          ctx.fillStyle = ser.color;
          ctx.beginPath();
          ctx.arc(x(r[0].t), y(r[0][ser.key]), ser.width + 0.5, 0, 2 * Math.PI);
          ctx.fill();
          continue;
        }
        ctx.strokeStyle = ser.color;
        ctx.lineWidth = ser.width;
        ctx.lineJoin = 'round';
        ctx.setLineDash(ser.dash || []);
        ctx.beginPath();
        r.forEach((s, i) => (i ? ctx.lineTo(x(s.t), y(s[ser.key])) : ctx.moveTo(x(s.t), y(s[ser.key]))));
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    ctx.restore();
  }

  let drawQueued = false;
  function draw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      const t = now();
      for (const c of charts) drawChart(c, t);
    });
  }

  // ---- start --------------------------------------------------------------------------------

  for (const c of charts) buildLegend(c);
  document.documentElement.style.setProperty('--site', siteColor(exposed.site));
  window.addEventListener('resize', draw);
  // The charts scroll even when no event comes, so a silent site shows as a flat stop.
  setInterval(() => {
    watchdog();
    draw();
  }, 250);
  connect();
  draw();
})();
