// rmq-connect dashboard: talks only to the worker that served it, through its REST API
// (docs/rest-api.md); no framework, no outside fetch. Every value from the API is put into the
// page as text (never as HTML).
'use strict';

const params = new URLSearchParams(location.search);
// ?refresh=<ms> changes the polling interval (default 5 s, at least 500 ms).
const REFRESH_MS = Math.max(500, Number(params.get('refresh')) || 5000);
const HISTORY = 60; // chart points kept
const COLORS = ['#2f6fdb', '#1f8a4c', '#d97706', '#9333ea', '#c53030', '#0e7490', '#4d7c0f', '#be185d'];

const $ = (sel) => document.querySelector(sel);

// h('td', {class: 'x', onclick: f}, 'text', child...) -> element; strings become text nodes.
function h(tag, attrs, ...children) {
  const ns = tag.startsWith('svg:') ? 'http://www.w3.org/2000/svg' : null;
  const el = ns ? document.createElementNS(ns, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const enc = encodeURIComponent;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---- bearer-token sign-in ------------------------------------------------------------------
// Basic auth needs nothing here: the browser asks when the page loads and sends the credentials
// with every call. A bearer token (rest.auth.bearer.tokens) has no browser prompt, so when the
// API answers 401 with a Bearer challenge the page asks for the token and sends it itself. It is
// kept in sessionStorage (this tab, until it is closed), never in localStorage or a cookie.
const TOKEN_KEY = 'rmq-connect-token';
let token = sessionStorage.getItem(TOKEN_KEY) || '';

function showSignIn(reason) {
  $('#sign-in-reason').textContent = reason || '';
  $('#sign-out').hidden = true;
  const form = $('#sign-in');
  if (form.hidden) {
    form.hidden = false;
    $('#sign-in-token').focus();
  }
}

function signIn(ev) {
  ev.preventDefault();
  const value = $('#sign-in-token').value.trim();
  if (!value) return;
  token = value;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('#sign-in-token').value = '';
  $('#sign-in').hidden = true;
  $('#sign-out').hidden = false;
  selfInfo = null;
  lastView = '';
  refresh();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.reload();
}

// A 401: the token sent was refused (forget it), or the worker wants one.
function onUnauthorized(res, sent) {
  if (!/bearer/i.test(res.headers.get('WWW-Authenticate') || '')) return;
  if (sent && sent === token) {
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn('the worker refused that token');
  } else if (!token && $('#sign-in').hidden) {
    showSignIn('');
  }
}

// One REST call; resolves to the parsed JSON body (or text), rejects with ApiError carrying the
// API's own message (Kafka-style {"message"} or the seed's {"body"}).
async function api(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' };
  const sent = token;
  if (sent) opts.headers.Authorization = 'Bearer ' + sent;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, 'the worker does not answer (' + e.message + ')');
  }
  const text = await res.text();
  let data = text;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (_) {
    // not JSON (/metrics): keep the text
  }
  if (!res.ok) {
    let msg = res.statusText;
    if (data && typeof data === 'object') msg = data.message || data.body || msg;
    if (res.status === 401) {
      msg = 'not signed in: ' + msg;
      onUnauthorized(res, sent);
    }
    if (res.status === 403) msg = 'not allowed: ' + msg;
    throw new ApiError(res.status, msg);
  }
  return data;
}

// source 'refresh': cleared by the next refresh that works; else by the next action.
function showBanner(text, source) {
  const b = $('#banner');
  b.dataset.source = source || '';
  b.textContent = text || '';
  b.hidden = !text;
}

let toastTimer = 0;
function toast(text) {
  const t = $('#toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 3000);
}

function stateBadge(state) {
  return h('span', { class: 'state ' + (state || 'UNKNOWN'), 'data-state': state || 'UNKNOWN' }, state || '?');
}

// ---- workers and connectors -------------------------------------------------------------

const openTraces = new Set(); // "<connector>/<task>" whose trace the user opened
let lastView = '';
let plugins = [];

async function loadWorkerInfo() {
  const info = await api('GET', '/');
  $('#worker-info').textContent =
    `worker ${info.worker_id} · ${info.mode} · version ${info.version}` +
    (info.cluster_id ? ` · cluster ${info.cluster_id}` : '');
  return info;
}

async function refreshConnectors(self) {
  const [connectors, cluster] = await Promise.all([
    api('GET', '/connectors?expand=status&expand=info'),
    api('GET', '/getClusterInfo'),
  ]);
  const view = JSON.stringify([connectors, cluster, self.worker_id]);
  if (view === lastView) return; // nothing changed: keep the DOM (and what the user opened)
  lastView = view;
  renderWorkers(connectors, (cluster && cluster.body) || [], self.worker_id);
  renderConnectors(connectors);
}

function renderWorkers(connectors, workerIds, selfId) {
  const workers = new Map();
  const get = (id) => {
    if (!workers.has(id)) workers.set(id, { connectors: 0, tasks: 0, states: {} });
    return workers.get(id);
  };
  for (const id of workerIds) get(id);
  if (selfId) get(selfId);
  for (const entry of Object.values(connectors)) {
    const st = entry.status;
    if (!st) continue;
    if (st.connector && st.connector.worker_id) get(st.connector.worker_id).connectors++;
    for (const t of st.tasks || []) {
      if (!t.worker_id) continue;
      const w = get(t.worker_id);
      w.tasks++;
      w.states[t.state] = (w.states[t.state] || 0) + 1;
    }
  }
  const body = $('#workers tbody');
  body.replaceChildren(...[...workers.entries()].sort().map(([id, w]) =>
    h('tr', { 'data-worker': id },
      h('td', {}, id, id === selfId ? h('span', { class: 'muted' }, ' (this worker)') : null),
      h('td', {}, w.connectors),
      h('td', {}, w.tasks),
      h('td', {}, Object.entries(w.states).map(([s, n]) => [stateBadge(s), ` ${n} `])))));
}

function renderConnectors(connectors) {
  const names = Object.keys(connectors).sort();
  $('#no-connectors').hidden = names.length > 0;
  const rows = [];
  for (const name of names) {
    const st = connectors[name].status || { connector: {}, tasks: [] };
    const info = connectors[name].info || { config: {} };
    const state = (st.connector && st.connector.state) || 'UNKNOWN';
    const act = (label, fn, extra) =>
      h('button', Object.assign({ type: 'button', 'data-action': label.toLowerCase(), onclick: fn }, extra || {}), label);
    rows.push(h('tr', { class: 'connector', 'data-connector': name },
      h('td', {}, h('strong', {}, name)),
      h('td', {}, st.type || info.type || ''),
      h('td', { class: 'connector-state' }, stateBadge(state)),
      h('td', {}, (st.connector && st.connector.worker_id) || ''),
      h('td', { class: 'muted' }, (info.config && info.config['connector.class']) || ''),
      h('td', { class: 'actions' },
        state === 'PAUSED' || state === 'STOPPED'
          ? act('Resume', () => action(name, 'resume', 'PUT', `/connectors/${enc(name)}/resume`))
          : act('Pause', () => action(name, 'pause', 'PUT', `/connectors/${enc(name)}/pause`)),
        act('Restart', () => action(name, 'restart (with tasks)', 'POST',
          `/connectors/${enc(name)}/restart?includeTasks=true&onlyFailed=false`),
          { title: 'restart the connector and its tasks' }),
        state === 'STOPPED' ? null
          : act('Stop', () => action(name, 'stop', 'PUT', `/connectors/${enc(name)}/stop`),
            { title: 'shut the tasks down, keep the config' }),
        act('Edit', () => openEditor(name)),
        act('Delete', () => {
          if (confirm(`Delete connector ${name}?`)) action(name, 'delete', 'DELETE', `/connectors/${enc(name)}`);
        }, { class: 'danger' }))));
    if (st.connector && st.connector.trace) rows.push(traceRow(name, 'connector', st.connector.trace));
    for (const t of st.tasks || []) {
      const key = `${name}/${t.id}`;
      rows.push(h('tr', { class: 'task', 'data-connector': name, 'data-task': t.id },
        h('td', {}, `task ${t.id}`),
        h('td', {}),
        h('td', { class: 'task-state' }, stateBadge(t.state)),
        h('td', {}, t.worker_id || ''),
        h('td', {}, t.trace ? traceDetails(key, t.trace) : null,
          t.auto_restart ? h('div', { class: 'muted' },
            `automatic restarts: ${t.auto_restart.attempts}` +
            (t.auto_restart.exhausted ? ' (given up)' : '')) : null),
        h('td', { class: 'actions' },
          h('button', {
            type: 'button', 'data-action': 'restart-task',
            onclick: () => action(name, `restart of task ${t.id}`, 'POST',
              `/connectors/${enc(name)}/tasks/${t.id}/restart`),
          }, 'Restart task'))));
    }
  }
  $('#connectors tbody').replaceChildren(...rows);
}

function traceDetails(key, trace) {
  const d = h('details', { class: 'trace', open: openTraces.has(key) },
    h('summary', {}, 'trace'), h('pre', { class: 'trace' }, trace));
  d.addEventListener('toggle', () => {
    if (d.open) openTraces.add(key);
    else openTraces.delete(key);
  });
  return d;
}

function traceRow(name, key, trace) {
  return h('tr', { class: 'task', 'data-connector': name },
    h('td', { colspan: 6 }, traceDetails(`${name}/${key}`, trace)));
}

async function action(name, what, method, path) {
  try {
    await api(method, path);
    toast(`${name}: ${what} requested`);
    showBanner('');
  } catch (e) {
    showBanner(`${name}: ${what} failed: ${e.message}`);
  }
  await refresh();
}

// ---- plugins -----------------------------------------------------------------------------

async function loadPlugins() {
  plugins = await api('GET', '/connector-plugins?connectorsOnly=false');
  $('#plugins tbody').replaceChildren(...plugins.map((p) =>
    h('tr', { 'data-plugin': p.class }, h('td', {}, p.class), h('td', {}, p.type), h('td', {}, p.version))));
  const select = $('#ed-plugin');
  select.replaceChildren(...plugins.filter((p) => p.type === 'source' || p.type === 'sink')
    .map((p) => h('option', { value: p.class }, `${p.class} (${p.type})`)));
}

// ---- metrics and charts --------------------------------------------------------------------

// Prometheus text format -> [{name, labels, value}]; comments and malformed lines are skipped.
function parsePrometheus(text) {
  const out = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (!l || l.startsWith('#')) continue;
    const m = line.exec(l);
    if (!m) continue;
    const labels = {};
    if (m[2]) {
      for (const lm of m[2].matchAll(label)) {
        labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
    }
    const value = Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1], labels, value });
  }
  return out;
}

const THROUGHPUT_COUNTERS = new Set(['rmqc_source_record_write_total', 'rmqc_sink_record_send_total']);
let lastScrape = null; // {t, counters: Map(series -> value)}
const throughput = []; // [{t, values: {connector: records/s}}]
const lag = []; // [{t, values: {connector: messages}}]

async function refreshMetrics() {
  const text = await api('GET', '/metrics');
  const t = Date.now() / 1000;
  const samples = parsePrometheus(typeof text === 'string' ? text : '');
  const counters = new Map();
  const lagNow = {};
  let lagSeen = false;
  for (const s of samples) {
    const connector = s.labels.connector || '(worker)';
    if (THROUGHPUT_COUNTERS.has(s.name)) {
      counters.set(`${s.name}|${connector}|${s.labels.task}`, { connector, value: s.value });
    } else if (/(^|_)lag(_|$)/.test(s.name) && !/_(bucket|sum|count|total)$/.test(s.name)) {
      lagSeen = true;
      lagNow[connector] = (lagNow[connector] || 0) + s.value;
    }
  }
  if (lastScrape) {
    const dt = t - lastScrape.t;
    const rates = {};
    for (const [key, s] of counters) {
      const prev = lastScrape.counters.get(key);
      // a task that (re)started counts from zero: its whole value is new
      const delta = prev === undefined || s.value < prev.value ? s.value : s.value - prev.value;
      rates[s.connector] = (rates[s.connector] || 0) + (dt > 0 ? delta / dt : 0);
    }
    push(throughput, { t, values: rates });
  }
  lastScrape = { t, counters };
  if (lagSeen) push(lag, { t, values: lagNow });
  drawChart($('#throughput-chart'), throughput, 'records/s',
    'collecting: the first rate needs two scrapes of /metrics');
  drawChart($('#lag-chart'), lag, 'messages',
    'this worker reports no consumer lag (rmqc_sink_consumer_lag): no sink tasks here');
}

function push(history, point) {
  history.push(point);
  if (history.length > HISTORY) history.shift();
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmt(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (v >= 1e3) return (v / 1e3).toFixed(1) + 'k';
  return v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
}

const colorOf = new Map();
function color(name) {
  if (!colorOf.has(name)) colorOf.set(name, COLORS[colorOf.size % COLORS.length]);
  return colorOf.get(name);
}

// A line chart of history ([{t, values}]) as SVG, one line per key, with a legend.
function drawChart(box, history, unit, emptyText) {
  // drawn at the box's own width, so the text is not stretched
  const W = Math.max(300, Math.round(box.clientWidth) || 800), H = 200, L = 50, R = 10, T = 10, B = 22;
  const svg = h('svg:svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': unit });
  const keys = [...new Set(history.flatMap((p) => Object.keys(p.values)))].sort();
  if (history.length === 0 || keys.length === 0) {
    svg.append(h('svg:text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty' }, emptyText));
    box.replaceChildren(svg);
    return;
  }
  const t0 = history[0].t, t1 = history[history.length - 1].t;
  const span = Math.max(t1 - t0, 1);
  const max = niceMax(Math.max(...history.flatMap((p) => Object.values(p.values))));
  const x = (t) => L + ((t - t0) / span) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  for (const f of [0, 0.5, 1]) {
    svg.append(h('svg:line', { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), class: 'axis' }));
    svg.append(h('svg:text', { x: L - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, fmt(max * f)));
  }
  svg.append(h('svg:text', { x: L, y: H - 6 }, `${Math.round(span)} s ago`));
  svg.append(h('svg:text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, 'now'));
  const legend = h('div', { class: 'legend' });
  for (const k of keys) {
    const pts = history.filter((p) => k in p.values).map((p) => `${x(p.t).toFixed(1)},${y(p.values[k]).toFixed(1)}`);
    if (pts.length === 1) pts.push(pts[0].replace(/^[^,]+/, (W - R).toFixed(1)));
    svg.append(h('svg:polyline', { points: pts.join(' '), fill: 'none', stroke: color(k), 'stroke-width': 2 }));
    const last = history[history.length - 1].values[k];
    if (last === undefined) continue; // gone (deleted, moved): its line stays until it scrolls out
    const swatch = h('span', { class: 'swatch' });
    swatch.style.background = color(k);
    legend.append(h('span', { 'data-series': k }, swatch, `${k}: ${fmt(last)} ${unit}`));
  }
  box.replaceChildren(svg, legend);
}

// ---- create / edit ---------------------------------------------------------------------------

const editor = { mode: 'json', editing: null, original: null, timer: 0, seq: 0, definitions: new Map() };

function editorConfig() {
  // the config being edited, or a string naming why it cannot be read
  if (editor.mode === 'json') {
    const text = $('#ed-json').value.trim();
    if (!text) return {};
    let obj;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      return 'the config is not valid JSON: ' + e.message;
    }
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return 'the config must be a JSON object of keys and values';
    const out = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v !== null && typeof v === 'object') return `the value of ${k} must be a string, number or boolean`;
      out[k] = v === null ? null : String(v);
    }
    return out;
  }
  const out = {};
  for (const tr of $('#ed-kv tbody').children) {
    const [k, v] = tr.querySelectorAll('input');
    if (k.value.trim()) out[k.value.trim()] = v.value;
  }
  return out;
}

function setEditorConfig(cfg) {
  $('#ed-json').value = JSON.stringify(cfg, null, 2);
  const body = $('#ed-kv tbody');
  body.replaceChildren(...Object.entries(cfg).map(([k, v]) => kvRow(k, v)));
}

function kvRow(k, v) {
  const tr = h('tr', { 'data-key': k },
    h('td', {}, h('input', { value: k, list: 'ed-keys', 'aria-label': 'key', oninput: scheduleValidate })),
    h('td', {}, h('input', { value: v === null ? '' : v, 'aria-label': 'value', oninput: scheduleValidate })),
    h('td', {}, h('button', { type: 'button', onclick: () => { tr.remove(); scheduleValidate(); } }, '✕')));
  return tr;
}

function switchMode(mode) {
  if (mode === editor.mode) return;
  const cfg = editorConfig();
  if (typeof cfg === 'string') {
    document.querySelector(`input[name="ed-mode"][value="${editor.mode}"]`).checked = true;
    showValidation([cfg], 0, true);
    return;
  }
  editor.mode = mode;
  setEditorConfig(cfg);
  $('#ed-json').hidden = mode !== 'json';
  $('#ed-kv').hidden = mode !== 'kv';
}

async function openEditor(name) {
  editor.editing = name;
  editor.original = null;
  $('#editor').hidden = false;
  $('#editor-title').textContent = name ? `Edit connector ${name}` : 'New connector';
  $('#ed-save').textContent = name ? 'Save' : 'Create';
  $('#ed-name').value = name || '';
  $('#ed-name').disabled = !!name;
  $('#ed-validation').replaceChildren();
  let cfg = {};
  if (name) {
    try {
      cfg = await api('GET', `/connectors/${enc(name)}/config?format=kafka`);
    } catch (e) {
      showBanner(`cannot read the config of ${name}: ${e.message}`);
      $('#editor').hidden = true;
      return;
    }
    editor.original = cfg;
  } else {
    const plugin = $('#ed-plugin').value;
    cfg = { 'connector.class': plugin, 'max.tasks': '1' };
  }
  if (cfg['connector.class']) $('#ed-plugin').value = cfg['connector.class'];
  setEditorConfig(cfg);
  $('#editor').scrollIntoView({ block: 'start' });
  validateNow();
}

function scheduleValidate() {
  clearTimeout(editor.timer);
  editor.timer = setTimeout(validateNow, 300);
}

function showValidation(errors, count, local) {
  const box = $('#ed-validation');
  if (!errors.length) {
    box.replaceChildren(h('span', { class: 'ok', 'data-errors': 0 }, 'config valid'));
  } else {
    box.replaceChildren(
      h('span', { class: 'bad', 'data-errors': count || errors.length },
        local ? 'cannot validate:' : `${count} error${count === 1 ? '' : 's'}:`),
      h('ul', {}, errors.map((e) => h('li', {}, e))));
  }
}

async function validateNow() {
  const cfg = editorConfig();
  if (typeof cfg === 'string') {
    showValidation([cfg], 1, true);
    return;
  }
  const plugin = cfg['connector.class'] || $('#ed-plugin').value;
  if (!plugin) {
    showValidation(['connector.class is required'], 1, true);
    return;
  }
  const seq = ++editor.seq;
  const body = {};
  for (const [k, v] of Object.entries(cfg)) if (v !== null) body[k] = v;
  if ($('#ed-name').value) body.name = $('#ed-name').value;
  let result;
  try {
    result = await api('PUT', `/connector-plugins/${enc(plugin)}/config/validate`, body);
  } catch (e) {
    if (seq === editor.seq) showValidation([e.message], 1, true);
    return;
  }
  if (seq !== editor.seq) return; // a newer edit is being validated
  const errors = [];
  const bad = new Set();
  const keys = $('#ed-keys');
  keys.replaceChildren();
  for (const c of result.configs || []) {
    const def = c.definition || {};
    keys.append(h('option', { value: def.name }, def.documentation || ''));
    for (const err of (c.value && c.value.errors) || []) {
      errors.push(`${c.value.name}: ${err}`);
      bad.add(c.value.name);
    }
  }
  for (const err of result.other_errors || []) errors.push(err);
  for (const tr of $('#ed-kv tbody').children) {
    tr.classList.toggle('bad', bad.has(tr.querySelector('input').value.trim()));
  }
  showValidation(errors, result.error_count || errors.length, false);
}

async function saveEditor(ev) {
  ev.preventDefault();
  const cfg = editorConfig();
  if (typeof cfg === 'string') {
    showValidation([cfg], 1, true);
    return;
  }
  try {
    if (editor.editing) {
      // only what changed: a removed key is sent as null, and redacted values ("******") that
      // were left alone are not written back over the secret
      const patch = {};
      for (const [k, v] of Object.entries(cfg)) if (editor.original[k] !== v) patch[k] = v;
      for (const k of Object.keys(editor.original)) if (!(k in cfg)) patch[k] = null;
      if (Object.keys(patch).length === 0) {
        toast('nothing changed');
      } else {
        await api('PATCH', `/connectors/${enc(editor.editing)}/config`, patch);
        toast(`${editor.editing}: config saved`);
      }
    } else {
      const name = $('#ed-name').value.trim();
      if (!name) {
        showValidation(['a name is required'], 1, true);
        return;
      }
      const config = {};
      for (const [k, v] of Object.entries(cfg)) if (v !== null) config[k] = v;
      await api('POST', '/connectors', { name, config });
      toast(`${name}: created`);
    }
    $('#editor').hidden = true;
    showBanner('');
  } catch (e) {
    showValidation([e.message], 1, true);
    return;
  }
  await refresh();
}

// ---- refresh loop ---------------------------------------------------------------------------

let selfInfo = null;
let refreshing = null;

async function refresh() {
  if (refreshing) return refreshing; // one refresh at a time
  if (!$('#sign-in').hidden) return null; // waiting for a token: no calls that would get 401
  refreshing = (async () => {
    try {
      if (!selfInfo) selfInfo = await loadWorkerInfo();
      if (!plugins.length) await loadPlugins();
      await Promise.all([refreshConnectors(selfInfo), refreshMetrics()]);
      $('#updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      if ($('#banner').dataset.source === 'refresh') showBanner('');
    } catch (e) {
      showBanner('refresh failed: ' + e.message, 'refresh');
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function init() {
  $('#sign-in').addEventListener('submit', signIn);
  $('#sign-out').addEventListener('click', signOut);
  $('#sign-out').hidden = !token;
  $('#refresh').addEventListener('click', () => refresh());
  $('#new-connector').addEventListener('click', () => openEditor(null));
  $('#ed-cancel').addEventListener('click', () => { $('#editor').hidden = true; });
  $('#editor-form').addEventListener('submit', saveEditor);
  $('#ed-json').addEventListener('input', scheduleValidate);
  $('#ed-name').addEventListener('input', scheduleValidate);
  $('#ed-kv-add').addEventListener('click', () => { $('#ed-kv tbody').append(kvRow('', '')); });
  $('#ed-plugin').addEventListener('change', () => {
    const cfg = editorConfig();
    if (typeof cfg === 'string') return;
    cfg['connector.class'] = $('#ed-plugin').value;
    setEditorConfig(cfg);
    validateNow();
  });
  for (const r of document.querySelectorAll('input[name="ed-mode"]')) {
    r.addEventListener('change', () => switchMode(r.value));
  }
  refresh();
  setInterval(() => { if ($('#auto-refresh').checked) refresh(); }, REFRESH_MS);
}

init();
