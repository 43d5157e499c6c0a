/**
 * The old engine's clients, unchanged, behave as they did (issue #11). The messages below are what
 * Music Chronus's own client programs send — the `ChronusOSC` Python wrapper, `chronusctl`, the
 * example and composition scripts — reconstructed from OSC.md and the reproductions in the issue.
 * They are replayed over real UDP with liblo's `oscsend` (python-osc sends the same bytes: a Python
 * float is 'f', an int 'i', a str 's', and `send_message(addr, [a, b])` sends a and b as separate
 * arguments), against a `chronus start` process, and each effect is checked: parameter values, the
 * sequencer's tracks, slot files, the console the old engine printed on (chronusctl never reads
 * replies), the status and event log files, silence after /engine/stop, and /viz for the old visualiser.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OscClient } from '../cli/osc-client.ts';
import { hasLiblo, oscsend, startOscdump } from './helpers/liblo.ts';
import { makeRoot, startEngineProcess, type EngineProcess } from './helpers/engine-process.ts';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';

const HOST = '127.0.0.1';

/** One message as oscsend takes it: address, liblo type tags, values. */
type Msg = readonly [address: string, types: string, ...values: (string | number)[]];

// ───────────── the old clients' messages (data, not their code) ─────────────

/** `ChronusOSC` (chronus_osc.py): voice, acid, effects and LFO setters, gates. */
const CHRONUS_OSC_SOUND: readonly Msg[] = [
  ['/mod/voice1/freq', 'f', 440], // set_voice_freq(1, 440.0)
  ['/mod/voice1/amp', 'f', 0.5],
  ['/mod/voice1/filter/freq', 'f', 1200], // set_voice_filter(1, 1200, q=2.5)
  ['/mod/voice1/filter/q', 'f', 2.5],
  ['/mod/voice1/adsr/attack', 'f', 0.005], // set_voice_adsr(1, …)
  ['/mod/voice1/adsr/decay', 'f', 0.2],
  ['/mod/voice1/adsr/sustain', 'f', 0.6],
  ['/mod/voice1/adsr/release', 'f', 0.3],
  ['/mod/voice1/send/reverb', 'f', 0.25], // set_voice_sends(1, 0.25, 0.1)
  ['/mod/voice1/send/delay', 'f', 0.1],
  ['/gate/voice1', 'i', 1], // gate_voice(1, True)
  ['/gate/voice1', 'i', 0],
  ['/mod/acid1/cutoff', 'f', 900], // set_acid_cutoff / _res / _env / _drive
  ['/mod/acid1/res', 'f', 0.7],
  ['/mod/acid1/env_amount', 'f', 3000],
  ['/mod/acid1/decay', 'f', 0.3],
  ['/mod/acid1/drive', 'f', 0.4],
  ['/mod/acid1/mix', 'f', 0.9],
  ['/mod/reverb1/mix', 'f', 0.35], // set_reverb(0.35, room=0.6, damp=0.4)
  ['/mod/reverb1/room', 'f', 0.6],
  ['/mod/reverb1/damp', 'f', 0.4],
  ['/mod/delay1/mix', 'f', 0.2], // set_delay(0.2, time=0.375, feedback=0.45)
  ['/mod/delay1/time', 'f', 0.375],
  ['/mod/delay1/feedback', 'f', 0.45],
  ['/mod/dist1/drive', 'f', 0.15], // set_distortion(0.15, mix=0.3, tone=0.6)
  ['/mod/dist1/mix', 'f', 0.3],
  ['/mod/dist1/tone', 'f', 0.6],
  ['/mod/lfo1/rate', 'f', 2], // set_lfo(1, 2.0, depth=0.5)
  ['/mod/lfo1/depth', 'f', 0.5],
];

/** `ChronusOSC` sequencer calls, and a song's track with Hz notes and key=value settings. */
const CHRONUS_OSC_SEQUENCER: readonly Msg[] = [
  ['/seq/clear', ''],
  ['/seq/add', 'sssf', 'kick', 'voice1', 'X...X...X...X...', 60], // seq_add_track('kick', 'voice1', …, base_freq=60)
  ['/seq/add', 'sssff', 'hats', 'voice3', 'x.x.x.x.', 4000, 6000],
  ['/seq/add', 'sssffss', 'lead', 'voice2', 'x.x.x.xx', 330, 800, '329.63,329.63,392,440', 'gate_frac=0.8'], // a song's notes in Hz
  ['/seq/update/pattern', 'ss', 'kick', 'X..xX...X..xX.x.'],
  ['/seq/update/notes', 'ss', 'hats', '4000.0,5000.0'],
  ['/seq/bpm', 'f', 128],
  ['/seq/swing', 'f', 0.1],
  ['/seq/start', ''],
];

/** `ChronusOSC.pattern_save(6, "my_groove")`, then a load after the tracks changed. */
const CHRONUS_OSC_PATTERNS: readonly Msg[] = [
  ['/pattern/save', 'is', 6, 'my_groove'],
  ['/seq/remove', 's', 'hats'],
  ['/pattern/load', 'i', 6], // pattern_load(6)
  ['/pattern/list', ''],
];

/** `chronusctl` subcommands: schema (default --format stdout), schema --format file, status, seq-status, list, seq-stop, stop, gate while stopped. */
const CHRONUSCTL_WHILE_PLAYING: readonly Msg[] = [
  ['/engine/schema', 's', 'stdout'],
  ['/engine/schema', 's', 'file'],
  ['/engine/status', ''],
  ['/seq/status', ''],
  ['/engine/list', ''],
  ['/seq/stop', ''],
  ['/engine/stop', ''],
  ['/mod/voice1/freq', 'f', 440], // chronusctl set voice1 freq 440
  ['/gate/voice1', 'i', 1], // chronusctl gate voice1 on — the old engine was silent until start
  ['/engine/status', ''],
];

/** Example scripts: extra trailing arguments, legacy aliases; then chronusctl start and a note. */
const EXAMPLES_AND_START: readonly Msg[] = [
  ['/gate/voice1', 'i', 0],
  ['/engine/start', 'i', 1], // send_message('/engine/start', 1)
  ['/engine/list', 'i', 1],
  ['/mod/sine1/freq', 'f', 330],
  ['/mod/filter1/freq', 'f', 2000],
  ['/mod/filter1/q', 'f', 4],
  ['/mod/adsr1/attack', 'f', 0.02],
  ['/mod/adsr1/release', 'f', 0.1],
  ['/gate/acid1', 'i', 1],
  ['/gate/acid1', 'i', 0],
  ['/gate/adsr1', 'i', 1],
  ['/gate/1', 'i', 0],
  ['/gate/voice1', 'i', 1], // chronusctl gate voice1 on, after start: it sounds
];

// ───────────── helpers ─────────────

async function replay(port: number, messages: readonly Msg[]): Promise<void> {
  for (const [address, types, ...values] of messages) await oscsend(HOST, port, address, types, ...values);
}

async function ask(client: OscClient, port: number, address: string, args: (string | number)[] = []): Promise<{ args: unknown[]; json: unknown; typeTags: string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await client.request(HOST, port, address, args, { replyAddress: address, timeoutMs: 2000 });
      return { args: r.args, json: r.json, typeTags: r.typeTags };
    } catch (e) {
      if (attempt === 5) throw e;
    }
  }
}

type Status = Record<string, number | boolean | string>;
const status = async (client: OscClient, port: number) => (await ask(client, port, '/engine/status')).json as Status;

/** Bounded polling (the engine applies messages at its next block): not a sleep. */
async function eventually<T>(get: () => Promise<T> | T, check: (v: T) => boolean, what: string, tries = 200): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < tries; i++) {
    last = await get();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${what}: last ${JSON.stringify(last)?.slice(0, 500)}`);
}

/** `/engine/list` text → module → parameter → value. */
function parseList(text: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+) \[[^\]]+\][^:]*:(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]] = Object.fromEntries(
      m[2]
        .trim()
        .split(' ')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), Number(kv.slice(kv.indexOf('=') + 1))]),
    );
  }
  return out;
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-4 * Math.max(1, Math.abs(b));

interface Track {
  name: string;
  voice: string;
  pattern: string;
  notes: number[];
  base_freq: number;
  filter_freq: number;
  gate_frac: number;
}

test('the old clients\' messages, replayed over UDP, do what they did in Music Chronus', { skip: !hasLiblo() && 'liblo-tools not installed' }, async (t) => {
  const dump = await startOscdump();
  t.after(() => dump.close());
  const root = await makeRoot();
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ viz: { port: dump.port, intervalMs: 50 }, plugins: { recorder: { enabled: true } } }));
  let engine: EngineProcess | undefined;
  // The engine stops before its folder goes (after-hooks run first-registered first).
  t.after(async () => {
    await engine?.stop();
    await rm(root, { recursive: true, force: true });
  });
  engine = await startEngineProcess({ root });
  const client = await OscClient.open();
  t.after(() => client.close());
  const { port } = engine;
  const console = () => engine!.output.join('\n');
  const before = await status(client, port);

  // ChronusOSC: every setter lands on its parameter.
  await replay(port, CHRONUS_OSC_SOUND);
  const values = await eventually(
    async () => parseList(String((await ask(client, port, '/engine/list')).args[0])),
    (v) => close(v.lfo1?.depth ?? 0, 0.5),
    'the last setter applied',
  );
  for (const [address, , value] of CHRONUS_OSC_SOUND) {
    const m = /^\/mod\/([^/]+)\/(.+)$/.exec(address);
    if (m) assert.ok(close(values[m[1]][m[2]], Number(value)), `${address} = ${values[m[1]][m[2]]}, sent ${value}`);
  }

  // Sequencer: every track is kept, the song's bare 392 and 440 are Hz.
  await replay(port, CHRONUS_OSC_SEQUENCER);
  type SeqStatus = { running: boolean; bpm: number; swing: number; tracks: Track[] };
  const seq = await eventually(() => ask(client, port, '/seq/status').then((r) => r.json as SeqStatus), (s) => s.running, 'the sequencer runs');
  assert.deepEqual(seq.tracks.map((tr) => tr.name), ['kick', 'hats', 'lead']);
  const lead = seq.tracks.find((tr) => tr.name === 'lead')!;
  assert.deepEqual(lead.notes, [329.63, 329.63, 392, 440]);
  assert.deepEqual([lead.voice, lead.base_freq, lead.filter_freq, lead.gate_frac], ['voice2', 330, 800, 0.8]);
  assert.equal(seq.tracks.find((tr) => tr.name === 'kick')!.pattern, 'X..xX...X..xX.x.');
  assert.deepEqual(seq.tracks.find((tr) => tr.name === 'hats')!.notes, [4000, 5000]);
  assert.equal(seq.bpm, 128);
  assert.ok(close(seq.swing, 0.1), String(seq.swing)); // a float32 on the wire
  await eventually(() => status(client, port), (s) => Number(s.peak) > 0.01, 'the sequencer sounds');

  // Patterns: slot 6 saved with its name (the slot file validates and shows it), and loaded back.
  await replay(port, CHRONUS_OSC_PATTERNS);
  const slot = JSON.parse(await eventually(() => readFile(path.join(root, 'patterns/slots/slot_006.json'), 'utf8').catch(() => ''), (s) => s !== '', 'slot 6 saved'));
  assert.equal(slot.name, 'my_groove');
  assert.equal(slot.slot, 6);
  await eventually(
    () => ask(client, port, '/seq/status').then((r) => (r.json as { tracks: Track[] }).tracks.map((tr) => tr.name).join(',')),
    (names) => names === 'kick,hats,lead',
    'the load brought "hats" back (at the next bar)',
  );
  const list = (await ask(client, port, '/pattern/list')).json as { slot: number; name?: string }[];
  assert.deepEqual(list.map((s) => [s.slot, s.name]), [[6, 'my_groove']]);

  // chronusctl: the console shows what the old engine printed; /engine/stop silences, gates are ignored.
  await replay(port, CHRONUSCTL_WHILE_PLAYING);
  const stopped = await eventually(() => status(client, port), (s) => s.stopped === true, '/engine/status says stopped');
  assert.equal(stopped.running, true, 'the audio clock keeps running (nothing underflows)');
  for (let i = 0; i < 8; i++) {
    const s = await status(client, port);
    assert.equal(s.peak, 0, 'silent after /engine/stop, even with a gate sent');
    assert.equal(s.activeGates, 0, 'the gate was ignored');
    await new Promise((r) => setTimeout(r, 25));
  }
  const files = await readdir(path.join(root, 'schemas'));
  assert.ok(files.includes('chronus-schema.json'), files.join(' '));
  assert.ok(files.some((f) => /^chronus_schema_\d{8}_\d{6}\.json$/.test(f)), files.join(' '));
  await eventually(() => console(), (c) => /CHRONUS ENGINE STATUS[\s\S]*Audio: stopped/.test(c), 'the console shows the stopped status');
  const out = console();
  for (const heading of ['ENGINE PARAMETER SCHEMA', 'AVAILABLE MODULES', 'CHRONUS ENGINE STATUS', '[SEQ] /seq/status:', '[PATTERN] Saved patterns:']) {
    assert.ok(out.includes(heading), `the console shows ${heading}`);
  }
  assert.match(out, /Slot {3}6: \d{4}-\d\d-\d\d \d\d:\d\d {2}my_groove/);
  assert.match(out, /"engine_commands"/, 'the schema itself is printed');

  // Examples: extra trailing arguments are ignored and counted, aliases work, start brings the sound back.
  await replay(port, EXAMPLES_AND_START);
  // A list-wrapped value (an OSC list, as some wrappers send) works like a bare one.
  client.send(HOST, port, '/mod/voice2/freq', [[220]]);
  const after = await eventually(() => status(client, port), (s) => s.stopped === false && Number(s.peak) > 0.01, '/engine/start: a gate sounds again');
  const legacy = parseList(String((await ask(client, port, '/engine/list')).args[0])).voice1;
  const expected: [string, number][] = [['freq', 330], ['filter/freq', 2000], ['filter/q', 4], ['adsr/attack', 0.02], ['adsr/release', 0.1]];
  for (const [name, v] of expected) assert.ok(close(legacy[name], v), `voice1 ${name} = ${legacy[name]} through its old alias`);
  assert.equal(parseList(String((await ask(client, port, '/engine/list')).args[0])).voice2.freq, 220);
  assert.equal(Number(after.extraArgs) - Number(before.extraArgs), 2, '/engine/start 1 and /engine/list 1');
  assert.equal(after.errors, before.errors, 'no message of the old clients was refused');

  // The event log beside the status file, rewritten like it.
  const log = await eventually(() => readFile(path.join(root, 'engine_log.txt'), 'utf8').catch(() => ''), (l) => /\/engine\/started/.test(l), 'engine_log.txt');
  assert.match(log, /^\d\d:\d\d:\d\d \| LEVEL: \d\.\d{4} \| /m);
  assert.match(log, /\/pattern\/saved 6 .*my_groove/);
  assert.match(log, /\/engine\/stopped/);
  assert.ok(log.trim().split('\n').length <= 100);

  // A typo (chronusctl set voice1 frq 1): the old engine printed the error; so does this one, and logs it.
  await oscsend(HOST, port, '/mod/voice1/frq', 'f', 1);
  await eventually(() => console(), (c) => c.includes('[ERROR] /mod/voice1/frq OSC_UNKNOWN_ADDRESS'), 'the console shows the /error');

  // The old visualiser: /viz/levels one peak per voice, /viz/spectrum its 8 bands (63 Hz … 8 kHz) in 0…1.
  const spectrum = await dump.waitFor((l) => l.address === '/viz/spectrum' && l.args.some((x) => Number(x) > 0.05));
  assert.equal(spectrum.types, 'ffffffff');
  assert.ok(spectrum.args.every((x) => Number(x) >= 0 && Number(x) <= 1), spectrum.raw);
  const levels = await dump.waitFor((l) => l.address === '/viz/levels');
  assert.equal(levels.types, 'f'.repeat(8), 'one peak per voice (8)');
});

test('integer replies go out as OSC integers: slots as int32, recorded frames as int64', { skip: !hasLiblo() && 'liblo-tools not installed' }, async (t) => {
  const root = await makeRoot();
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ plugins: { recorder: { enabled: true } } }));
  let engine: EngineProcess | undefined;
  // The engine stops before its folder goes (after-hooks run first-registered first).
  t.after(async () => {
    await engine?.stop();
    await rm(root, { recursive: true, force: true });
  });
  engine = await startEngineProcess({ root });
  const client = await OscClient.open();
  t.after(() => client.close());
  const saved = await client.request(HOST, engine.port, '/pattern/save', [{ type: 'i', value: 7 }, 'seven'], { replyAddress: '/pattern/saved', timeoutMs: 30_000 });
  assert.equal(saved.typeTags, 'iss');
  assert.deepEqual([saved.args[0], saved.args[2]], [7, 'seven']);
  const loaded = await client.request(HOST, engine.port, '/pattern/load', [{ type: 'i', value: 7 }, 'immediate'], { replyAddress: '/pattern/loaded', timeoutMs: 30_000 });
  assert.equal(loaded.typeTags, 'is');
  await client.request(HOST, engine.port, '/engine/record/start', [], { replyAddress: '/engine/record/started', timeoutMs: 30_000 });
  await new Promise((r) => setTimeout(r, 300));
  const stopped = await client.request(HOST, engine.port, '/engine/record/stop', [], { replyAddress: '/engine/record/stopped', timeoutMs: 30_000 });
  assert.equal(stopped.typeTags, 'sh');
  assert.ok(Number.isInteger(stopped.args[1]) && Number(stopped.args[1]) > 0, String(stopped.args[1]));
});

test('/engine/schema keeps the old export\'s keys: sequencer, engine_commands, per-module name/type/notes', async (t) => {
  let engine: EngineProcess | undefined;
  t.after(() => engine?.stop());
  engine = await startEngineProcess();
  const client = await OscClient.open();
  t.after(() => client.close());
  const schema = (await client.request(HOST, engine.port, '/engine/schema', ['json'], { replyAddress: '/engine/schema', timeoutMs: 30_000 })).json as Record<string, unknown>;
  const old = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'test/fixtures/old-engine/music-chronus-schema.json'), 'utf8')) as Record<string, unknown>;
  for (const key of Object.keys(old)) assert.ok(key in schema, `top-level "${key}"`);
  const modules = schema.modules as Record<string, Record<string, unknown>>;
  const oldModules = old.modules as Record<string, Record<string, unknown>>;
  for (const [id, m] of Object.entries(oldModules)) {
    if (id === '*') continue; // the old export's wildcard route, not a module
    assert.ok(modules[id], `module group ${id}`);
    for (const key of Object.keys(m)) assert.ok(key in modules[id], `${id}.${key}`);
    for (const param of Object.keys(m.params as object)) assert.ok(param in (modules[id].params as object), `${id}.params.${param}`);
  }
  assert.equal(modules.dist1.type, 'distortion');
  assert.match(String(modules.dist1.name), /\(dist1\)$/);
  assert.equal(typeof modules.voice.notes, 'string');
  const seq = schema.sequencer as { commands: Record<string, { args: string[]; description: string }>; pattern_notation: Record<string, string> };
  const oldSeq = old.sequencer as { commands: Record<string, { args: string[] }> };
  for (const [address, c] of Object.entries(oldSeq.commands)) {
    assert.ok(seq.commands[address], `sequencer.commands["${address}"]`);
    assert.deepEqual(seq.commands[address].args.slice(0, c.args.length), c.args, address);
  }
  assert.deepEqual(Object.keys(seq.pattern_notation).sort(), ['.', 'X', 'x']);
  const commands = schema.engine_commands as Record<string, { args: string[]; formats?: string[] }>;
  for (const address of Object.keys(old.engine_commands as object)) assert.ok(commands[address], `engine_commands["${address}"]`);
  assert.deepEqual(commands['/engine/schema'].formats, ['json', 'stdout', 'file']);
});
