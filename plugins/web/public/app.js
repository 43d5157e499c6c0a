// The Chronus web view: draws what the engine's `web` plugin streams over one WebSocket
// (/web/live; protocol in plugins/web/live-feed.ts) and sends parameter changes, gates and record
// commands back as the OSC messages a client would send. No build step: plain JS and uPlot.
/* global uPlot */

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
};

/** Seen by tests: a page that reloads gets a new id. */
window.chronusPage = { id: Math.random().toString(36).slice(2), frames: 0, hello: 0 };

const state = {
  ws: null,
  retryMs: 250,
  schema: { modules: {} },
  values: {},
  plugins: [],
  bands: [],
  sampleRate: 48000,
  /** Addresses whose control the user holds: incoming values leave them alone. */
  holding: new Set(),
  /** Drawn meter levels (dB), decaying between frames. */
  levels: new Map(),
  panels: new Map(),
  nextId: 1,
  recorder: { available: false, recording: false },
  recordingSince: 0,
};

// ---------- connection ----------

function connect() {
  const ws = new WebSocket(`ws://${location.host}/web/live`);
  state.ws = ws;
  setConnection('connecting', 'connecting…');
  ws.onopen = () => {
    state.retryMs = 250;
    setConnection('open', 'live');
  };
  ws.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch {
      return;
    }
    receive(m);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    setConnection('closed', 'reconnecting…');
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(5000, state.retryMs * 2);
  };
}

function setConnection(s, text) {
  const c = $('#connection');
  c.dataset.state = s;
  c.textContent = text;
}

/** Sends `address args` to the engine as an OSC client would; `onReply(address, args)` hears the replies. */
function send(address, args, onReply) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
  const id = state.nextId++;
  if (onReply) replyHandlers.set(id, onReply);
  state.ws.send(JSON.stringify({ t: 'send', id, address, args }));
}
const replyHandlers = new Map();

function receive(m) {
  switch (m.t) {
    case 'hello':
      window.chronusPage.hello++;
      state.bands = m.bands;
      state.sampleRate = m.sampleRate;
      setupPlots();
    // falls through: a hello carries what a plugins message does
    case 'plugins':
      state.schema = m.schema;
      state.values = m.values;
      state.plugins = m.plugins;
      renderPanels();
      renderBanners(m.errors);
      renderRecorder(m.recorder);
      break;
    case 'frame':
      window.chronusPage.frames++;
      drawMeters(m.meters, m.master);
      drawPlots(m.spectrum, m.scope);
      if (m.params) applyValues(m.params);
      break;
    case 'error':
      addBanner(m.plugin, m.message);
      $(`#plugin-${cssId(m.plugin)}`)?.classList.add('failed');
      break;
    case 'recorder':
      renderRecorder(m.recorder);
      break;
    case 'reply': {
      const handler = replyHandlers.get(m.id);
      if (handler) handler(m.address, m.args);
      if (m.address === '/error') notice(`${m.args[0]}: ${m.args[1]} ${m.args[2] ?? ''}`);
      break;
    }
  }
}

function notice(text) {
  $('#notice').textContent = text;
}

// ---------- meters ----------

const FLOOR_DB = -60;
const toDb = (peak) => (peak > 0 ? Math.max(FLOOR_DB, 20 * Math.log10(peak)) : FLOOR_DB);

/** `voice3` → `v3` under a narrow meter (the full name is its title). */
const shortName = (key) => key.replace(/^([a-z])[a-z_]*?(\d+)$/, '$1$2');

function meter(key, label, master) {
  let m = $(`#meter-${cssId(key)}`);
  if (m) return m;
  m = el('div', { class: `meter${master ? ' master' : ''}`, id: `meter-${cssId(key)}`, 'data-level': '0', 'data-key': key, title: master ? `master ${label}` : key }, el('div', { class: 'bar' }, el('div', { class: 'fill' })), el('span', { class: 'label', text: label }));
  const meters = $('#meters');
  if (master) meters.append(m);
  else {
    const firstMaster = meters.querySelector('.gap');
    meters.insertBefore(m, firstMaster);
  }
  return m;
}

function drawMeters(meters, master) {
  const container = $('#meters');
  if (!container.querySelector('.gap')) container.append(el('div', { class: 'gap' }));
  const seen = new Set();
  for (const [key, peak] of Object.entries(meters)) {
    seen.add(key);
    level(meter(key, shortName(key), false), key, peak);
  }
  level(meter('master-l', 'L', true), 'master-l', master[0]);
  level(meter('master-r', 'R', true), 'master-r', master[1]);
  for (const m of container.querySelectorAll('.meter:not(.master)')) if (!seen.has(m.dataset.key)) m.remove();
}

/** Rises at once, falls 20 dB a second (at the frame rate the server sends). */
function level(m, key, peak) {
  const now = toDb(peak);
  const shown = Math.max(now, (state.levels.get(key) ?? FLOOR_DB) - 0.7);
  state.levels.set(key, shown);
  m.dataset.level = String(peak);
  m.dataset.db = shown.toFixed(1);
  m.querySelector('.fill').style.height = `${((shown - FLOOR_DB) / -FLOOR_DB) * 100}%`;
}

// ---------- spectrum and scope (uPlot) ----------

let spectrumPlot = null;
let scopePlot = null;

function plotWidth(id) {
  return Math.max(260, $(id).clientWidth);
}

function setupPlots() {
  if (typeof uPlot !== 'function') return;
  spectrumPlot?.destroy();
  scopePlot?.destroy();
  const common = { height: 180, legend: { show: false }, cursor: { show: false }, select: { show: false } };
  const axis = { stroke: '#8a919c', grid: { stroke: '#2c3038', width: 1 }, ticks: { stroke: '#2c3038' } };
  spectrumPlot = new uPlot(
    {
      ...common,
      width: plotWidth('#spectrum'),
      scales: { x: { time: false, distr: 3, min: 20, max: 20000 }, y: { range: [-100, 0] } },
      axes: [
        { ...axis, splits: () => [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000], values: (_, ticks) => ticks.map((v) => (v == null ? '' : v >= 1000 ? `${v / 1000}k` : `${v}`)) },
        { ...axis, label: 'dBFS', size: 50 },
      ],
      series: [{}, { stroke: '#4cc3ff', fill: 'rgba(76,195,255,0.15)', fillTo: -100, width: 1.5, points: { show: false } }],
    },
    [state.bands, state.bands.map(() => -100)],
    $('#spectrum'),
  );
  const n = 512;
  const ms = Array.from({ length: n }, (_, i) => +(((i * 2) / state.sampleRate) * 1000).toFixed(3));
  scopePlot = new uPlot(
    {
      ...common,
      width: plotWidth('#scope'),
      scales: { x: { time: false }, y: { range: [-1, 1] } },
      axes: [{ ...axis, values: (_, ticks) => ticks.map((v) => `${v} ms`) }, { ...axis, size: 50 }],
      series: [{}, { stroke: '#48d17a', width: 1.5, points: { show: false } }],
    },
    [ms, ms.map(() => 0)],
    $('#scope'),
  );
}

function drawPlots(spectrum, scope) {
  if (spectrumPlot && spectrum) spectrumPlot.setData([state.bands, spectrum]);
  if (scopePlot && scope) scopePlot.setData([scopePlot.data[0], scope]);
}

window.addEventListener('resize', () => {
  spectrumPlot?.setSize({ width: plotWidth('#spectrum'), height: 180 });
  scopePlot?.setSize({ width: plotWidth('#scope'), height: 180 });
});

// ---------- plugins and their controls ----------

const cssId = (s) => String(s).replace(/[^A-Za-z0-9_-]/g, '_');

function time(ms) {
  return ms ? new Date(ms).toLocaleTimeString() : '';
}

/** The schema's module groups a plugin provides. */
function groupsOf(pluginId) {
  return Object.entries(state.schema.modules ?? {}).filter(([, g]) => g.plugin === pluginId);
}

/** Panels in signal order: sources first, tools without modules last. */
const ROLES = ['source', 'modulator', 'effect', 'send', 'sink', 'controller'];
const roleRank = (p) => (p.modules?.length ? 0 : 10) + Math.max(0, ROLES.indexOf(p.role));

function renderPanels() {
  const container = $('#panels');
  const plugins = [...state.plugins].sort((a, b) => roleRank(a) - roleRank(b) || a.id.localeCompare(b.id));
  $('#plugin-count').textContent = `(${plugins.length})`;
  const alive = new Set(plugins.map((p) => p.id));
  for (const [id, panel] of state.panels) {
    if (!alive.has(id)) {
      panel.node.remove();
      state.panels.delete(id);
    }
  }
  let previous = null;
  for (const p of plugins) {
    const groups = groupsOf(p.id);
    const signature = JSON.stringify(groups);
    let panel = state.panels.get(p.id);
    if (!panel) {
      panel = { node: el('section', { class: 'panel', id: `plugin-${cssId(p.id)}`, 'data-plugin': p.id }), signature: null };
      state.panels.set(p.id, panel);
    }
    panel.node.classList.remove('failed');
    const header = renderHeader(p);
    const old = panel.node.querySelector(':scope > header');
    if (old) old.replaceWith(header);
    else panel.node.prepend(header);
    if (panel.signature !== signature) {
      panel.node.querySelector(':scope > .body')?.remove();
      panel.node.append(renderBody(p, groups));
      panel.signature = signature;
    }
    // Keep the order of the list.
    if (previous ? previous.nextSibling !== panel.node : container.firstChild !== panel.node) {
      if (previous) previous.after(panel.node);
      else container.prepend(panel.node);
    }
    previous = panel.node;
  }
  applyValues(state.values);
}

function renderHeader(p) {
  const badges = [el('span', { class: 'badge', text: `v${p.version}` }), el('span', { class: 'badge', text: p.role })];
  if (p.faults > 0) badges.push(el('span', { class: 'badge fault', text: `${p.faults} fault${p.faults === 1 ? '' : 's'}` }));
  if (p.bypassed) badges.push(el('span', { class: 'badge bypassed', text: 'bypassed' }));
  if (p.quarantined) badges.push(el('span', { class: 'badge quarantined', text: 'quarantined', title: p.quarantined.reason }));
  const when = p.reloadedAt ? `reloaded ${time(p.reloadedAt)}` : p.loadedAt ? `loaded ${time(p.loadedAt)}` : '';
  return el('header', {}, el('h3', { text: p.name ?? p.id }), el('span', { class: 'muted', text: p.id }), ...badges, el('span', { class: 'spacer' }), el('span', { class: 'muted reload', text: when }));
}

function renderBody(p, groups) {
  const body = el('div', { class: 'body' });
  if (p.description) body.append(el('p', { class: 'about', text: p.description }));
  for (const [, g] of groups) {
    const params = Object.entries(g.params ?? {});
    g.instances.forEach((instance, i) => {
      if (params.length === 0 && (g.gates ?? []).length === 0) return;
      const summary = el('summary', {}, el('span', { class: 'name', text: instance }));
      if ((g.gates ?? []).length > 0) summary.append(gateButton(instance));
      const details = el('details', { class: 'module', 'data-module': instance, open: i === 0 }, summary);
      for (const [name, spec] of params) details.append(control(`/mod/${instance}/${name}`, name, spec));
      body.append(details);
    });
  }
  return body;
}

function gateButton(instance) {
  const address = `/gate/${instance}`;
  const set = (on, b) => {
    if ((b.getAttribute('aria-pressed') === 'true') === on) return;
    b.setAttribute('aria-pressed', String(on));
    send(address, [on ? 1 : 0]);
  };
  const b = el('button', { class: 'gate', type: 'button', 'data-gate': address, 'aria-pressed': 'false', title: `${address} 1 while held` }, 'gate');
  b.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    b.setPointerCapture?.(e.pointerId);
    set(true, b);
  });
  for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) b.addEventListener(ev, () => set(false, b));
  b.addEventListener('keydown', (e) => {
    if (e.key === ' ' || e.key === 'Enter') set(true, b);
  });
  b.addEventListener('keyup', (e) => {
    if (e.key === ' ' || e.key === 'Enter') set(false, b);
  });
  return b;
}

/** Linear, or logarithmic for ranges over two decades (frequencies, times). */
function scaleOf(spec) {
  if (spec.type === 'int' || spec.type === 'enum') return { steps: spec.max - spec.min, to: (v) => v - spec.min, from: (s) => spec.min + s };
  if (spec.min > 0 && spec.max / spec.min >= 100) {
    const k = Math.log(spec.max / spec.min);
    return { steps: 1000, to: (v) => Math.round((Math.log(v / spec.min) / k) * 1000), from: (s) => +(spec.min * Math.exp((s / 1000) * k)).toPrecision(5) };
  }
  const span = spec.max - spec.min;
  return { steps: 1000, to: (v) => Math.round(((v - spec.min) / span) * 1000), from: (s) => +(spec.min + (s / 1000) * span).toPrecision(5) };
}

const UNIT_SHORT = { seconds: 's', second: 's' };

function format(v, spec) {
  if (spec.type === 'enum') return spec.values?.[v] ?? String(v);
  const n = Math.abs(v) >= 100 || spec.type === 'int' ? Math.round(v).toString() : v.toPrecision(3);
  return spec.unit ? `${n} ${UNIT_SHORT[spec.unit] ?? spec.unit}` : n;
}

function control(address, name, spec) {
  const row = el('div', { class: 'control' });
  const id = `c-${cssId(address)}`;
  const title = `${address} (${spec.min}–${spec.max}${spec.unit ? ` ${spec.unit}` : ''})${spec.description ? `: ${spec.description}` : ''}`;
  row.append(el('label', { for: id, title, text: name }));
  const out = el('output', { for: id });
  if (spec.type === 'enum' && spec.values) {
    const select = el('select', { id, 'data-address': address, title });
    spec.values.forEach((label, i) => select.append(el('option', { value: i, text: `${i} ${label}` })));
    select.addEventListener('change', () => send(address, [Number(select.value)]));
    select.setValue = (v) => {
      select.value = String(Math.round(v));
      out.textContent = format(Math.round(v), spec);
    };
    row.append(select, out);
    return row;
  }
  const scale = scaleOf(spec);
  const input = el('input', { id, type: 'range', min: 0, max: scale.steps, step: 1, 'data-address': address, title });
  let frame = 0;
  const push = () => {
    frame = 0;
    const v = scale.from(Number(input.value));
    out.textContent = format(v, spec);
    send(address, [v]);
  };
  input.addEventListener('input', () => {
    out.textContent = format(scale.from(Number(input.value)), spec);
    if (!frame) frame = requestAnimationFrame(push);
  });
  input.addEventListener('change', () => {
    if (frame) cancelAnimationFrame(frame);
    push();
  });
  input.addEventListener('pointerdown', () => state.holding.add(address));
  input.addEventListener('pointerup', () => state.holding.delete(address));
  input.setValue = (v) => {
    input.value = String(scale.to(v));
    out.textContent = format(v, spec);
  };
  row.append(input, out);
  return row;
}

function applyValues(values) {
  for (const [address, v] of Object.entries(values)) {
    state.values[address] = v;
    if (state.holding.has(address)) continue;
    document.querySelector(`[data-address="${CSS.escape(address)}"]`)?.setValue?.(v);
  }
}

// ---------- banners (failed edits) ----------

function addBanner(plugin, message) {
  const banners = $('#banners');
  banners.querySelector(`[data-plugin="${CSS.escape(plugin)}"]`)?.remove();
  const b = el(
    'div',
    { class: 'banner', role: 'alert', 'data-plugin': plugin },
    el('b', { text: `⚠ ${plugin}` }),
    el('span', { class: 'message', text: message }),
    el('button', { type: 'button', title: 'dismiss', onclick: () => b.remove() }, '×'),
  );
  banners.prepend(b);
}

/** The errors the server still holds; banners of plugins that have loaded since go. */
function renderBanners(errors = []) {
  const keep = new Set(errors.map((e) => e.plugin));
  for (const b of $('#banners').querySelectorAll('.banner')) if (!keep.has(b.dataset.plugin)) b.remove();
  for (const e of errors) if (!$('#banners').querySelector(`[data-plugin="${CSS.escape(e.plugin)}"]`)) addBanner(e.plugin, e.message);
}

// ---------- recorder ----------

function renderRecorder(r) {
  if (!r) return;
  state.recorder = r;
  const button = $('#record');
  const label = $('#record-state');
  button.disabled = !r.available;
  button.dataset.recording = String(r.recording);
  button.textContent = r.recording ? '■ Stop' : '● Record';
  label.dataset.recording = String(r.recording);
  if (!r.available) {
    label.textContent = `recorder off: ${r.message ?? ''}`;
    label.title = r.message ?? '';
    button.title = `recorder off: ${r.message ?? ''}`;
  } else if (r.recording) {
    if (!state.recordingSince) state.recordingSince = Date.now();
    label.textContent = `REC ${r.status?.file ?? ''}`;
    button.title = '/engine/record/stop';
  } else {
    state.recordingSince = 0;
    label.textContent = r.status?.file ? `last: ${r.status.file}` : '';
    button.title = '/engine/record/start';
  }
}

$('#record').addEventListener('click', () => {
  const address = state.recorder.recording ? '/engine/record/stop' : '/engine/record/start';
  send(address, [], (reply, args) => {
    if (reply === '/engine/record/started') notice(`recording to ${args[0]}`);
    if (reply === '/engine/record/stopped') notice(`recorded ${args[0]} (${args[1]} frames)`);
  });
});

setInterval(() => {
  if (state.recorder.recording && state.recordingSince) {
    const s = Math.floor((Date.now() - state.recordingSince) / 1000);
    $('#record-state').textContent = `REC ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }
}, 500);

connect();
