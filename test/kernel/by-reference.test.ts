/**
 * A version's code goes once to each thread (issue 16: every copy of a bundle sat on that thread's
 * heap until a rare full collection): a load the audio thread prepared, a trial right after its
 * evaluation and a standby's prime name the version by reference, play what a copy plays, and a
 * thread that does not hold the code gets the copy after all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { byReference, type SlotSpec } from '../../kernel/audio/slot-spec.ts';
import { StandbyPrime } from '../../kernel/audio/standby-prime.ts';
import { answerStaging, type StagingRequest } from '../../kernel/plugins/staging-requests.ts';
import { PluginStager, type TrialThreads } from '../../kernel/plugins/plugin-staging.ts';
import { WorkerHost } from '../../kernel/host/worker-host.ts';
import type { TrialRequest } from '../../kernel/plugins/plugin-trial.ts';

/** A source that adds `level` to the main bus. */
const DC = (level: number) => `const sdk = require('plugin-sdk');
module.exports = { default: sdk.definePlugin({ params: {}, create(ctx) {
  const out = ctx.bus('main');
  return { process(s, e) { for (let i = s; i < e; i++) { out.l[i] += ${level}; out.r[i] += ${level}; } } };
} }) };`;

const spec = (slotId: number, code: string): SlotSpec => ({
  slotId, pluginId: 'dc', version: '1.0.0', role: 'source', order: 0, code, filename: '/plugins/dc/index.js',
  modules: ['dc1'], params: [], gates: [], follows: [], config: {}, numVoices: 1,
});
const trialOf = (s: SlotSpec): Omit<TrialRequest, 'memoryMb'> => ({ spec: s, state: undefined, values: [], sampleRate: 48000, blockSize: 256, smoothingMs: 20, seconds: 0.05 });

test('a standby primed by reference asks for the code of the versions it has not evaluated, and only for those', () => {
  const primed = new StandbyPrime(48000, 256, 20);
  const [a, b] = [spec(1, DC(0.1)), { ...spec(2, DC(0.2)), pluginId: 'dc2' }];
  assert.deepEqual(primed.prime([byReference(a), byReference(b)]), [1, 2], 'nothing held yet: both asked for');
  assert.equal(primed.definition(a), undefined, 'nothing evaluated from a reference');
  assert.deepEqual(primed.prime([byReference(a), b]), [1], 'b came with its code');
  assert.deepEqual(primed.prime([a, byReference(b)]), [], 'both held now');
  assert.equal(typeof primed.definition(a)?.create, 'function');
  // A version tried here (kept from its trial) is held too.
  const c = spec(3, DC(0.3));
  primed.keep(3, primed.definition(a)!);
  assert.deepEqual(primed.prime([byReference(c), byReference(b)]), [], 'the tried version is not asked for');
  assert.equal(primed.definition(a), undefined, 'a version no longer live is let go');
});

test('a trial by reference right after its evaluation tries that code (the same report as a copy); without it, the code is asked for', () => {
  const request = (id: number, s: SlotSpec): StagingRequest => ({ id, kind: 'trial', ...trialOf(s), memoryMb: 256 });
  const tried = spec(1, DC(0.25));
  assert.deepEqual(answerStaging({ id: 1, kind: 'evaluate', code: tried.code, filename: tried.filename }), { id: 1, ok: true });
  const byRef = answerStaging(request(2, byReference(tried)));
  assert.equal(byRef.ok, true, JSON.stringify(byRef));
  const byCopy = answerStaging(request(3, tried));
  assert.equal(byCopy.ok, true, JSON.stringify(byCopy));
  assert.deepEqual((byRef as { report: unknown }).report !== undefined && { ...(byRef as { report: { peak: number; blocks: number } }).report, medianBlockMs: 0, memoryMb: 0 }, { ...(byCopy as { report: { peak: number; blocks: number } }).report, medianBlockMs: 0, memoryMb: 0 });
  // The evaluation before was taken by the last trial: a reference now names nothing held.
  const missing = answerStaging(request(4, byReference(tried)));
  assert.deepEqual(missing, { id: 4, ok: false, message: 'the code of this version is not here', codeNeeded: true });
});

test('the stager sends a trial by reference after its evaluation, and sends the code when the thread asks for it', async () => {
  const sent: StagingRequest[] = [];
  const thread = new EventEmitter() as EventEmitter & { postMessage(m: { staging: StagingRequest }): void };
  let refuseReferences = false;
  thread.postMessage = ({ staging }) => {
    sent.push(staging);
    const byRef = staging.kind === 'trial' && staging.spec.codeByReference === true;
    const answer = byRef && refuseReferences ? { id: staging.id, ok: false, message: 'not here', codeNeeded: true } : { id: staging.id, ok: true, report: { blocks: 1 } };
    setImmediate(() => thread.emit('message', { staged: answer }));
  };
  const threads: TrialThreads = { acquire: async () => thread as unknown as Worker, discard: () => undefined, idle: () => undefined, close: async () => undefined };
  const saved = process.env.CHRONUS_SOURCES;
  // No build stamp: no pass is taken from the trial cache, every request reaches the thread.
  delete process.env.CHRONUS_SOURCES;
  try {
    const stager = new PluginStager({ timeoutMs: 5000, memoryMb: 256 }, threads);
    const v = spec(1, DC(0.5));
    await stager.evaluate(v.code, v.filename);
    await stager.trial(trialOf(v));
    assert.deepEqual(sent.map((r) => [r.kind, r.kind === 'trial' ? r.spec.code : r.code]), [['evaluate', v.code], ['trial', '']], 'the code went once');
    sent.length = 0;
    refuseReferences = true;
    const w = spec(2, DC(0.6));
    await stager.evaluate(w.code, w.filename);
    await stager.trial(trialOf(w));
    assert.deepEqual(sent.map((r) => [r.kind, r.kind === 'trial' ? r.spec.code : r.code]), [['evaluate', w.code], ['trial', ''], ['trial', w.code]], 'asked for, the code goes');
    sent.length = 0;
    await stager.trial(trialOf(w));
    assert.deepEqual(sent.map((r) => [r.kind, r.kind === 'trial' ? r.spec.code : r.code]), [['trial', w.code]], 'no evaluation just before: the code goes at once');
  } finally {
    if (saved !== undefined) process.env.CHRONUS_SOURCES = saved;
  }
});

/** The level of the last block heard, reading the host's output tap until `want` shows (or 10 s). */
async function levelHeard(host: WorkerHost, want: number): Promise<number> {
  const l = new Float32Array(256);
  const r = new Float32Array(256);
  let last = NaN;
  for (const until = Date.now() + 10_000; Date.now() < until; ) {
    while (host.outputTap.read([l, r]) > 0) last = l[255];
    if (Math.abs(last - want) < 1e-6) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return last;
}

test('a load the audio thread prepared goes by reference and plays; one whose prepared code is not there plays from the copy', async (t) => {
  const host = await WorkerHost.start('null', { sampleRate: 48000, blockSize: 256, smoothingMs: 20, leadBlocks: 3, device: null, dedicatedCpu: false });
  t.after(() => host.close());
  const worker = (host as unknown as { worker: Worker }).worker;
  const loads: { code: string }[] = [];
  const post = worker.postMessage.bind(worker);
  worker.postMessage = (m: { method?: string; args?: SlotSpec[] }) => {
    if (m.method === 'load') loads.push({ code: m.args![0].code });
    post(m);
  };
  const observed: { method: string; code: string; failed: boolean }[] = [];
  host.onCall = (method, args, _frame, failed) => {
    if (method === 'load') observed.push({ method, code: (args[0] as SlotSpec).code, failed });
  };
  await host.run();

  const a = spec(1, DC(0.25));
  host.prepare(a);
  await host.call('load', a);
  assert.deepEqual(loads, [{ code: '' }], 'prepared: loaded by reference');
  assert.equal(await levelHeard(host, 0.25), 0.25, 'and it plays');
  // A snapshot (what a session replay starts from) holds the version's code all the same.
  const snapshot = await host.call('snapshot');
  assert.equal(snapshot?.slots.find((s) => s.spec.pluginId === 'dc')?.spec.code, a.code);

  // Prepared as a version that fails to evaluate there, loaded with code that works: the reference names nothing held.
  const b = spec(2, DC(0.5));
  host.prepare({ ...b, code: 'throw new Error("not this code")' });
  await host.call('load', b);
  assert.deepEqual(loads.slice(1), [{ code: '' }, { code: b.code }], 'by reference, then the copy');
  assert.equal(await levelHeard(host, 0.5), 0.5, 'the copy plays');
  // Observers (a session journal) see each load once, with its code.
  assert.deepEqual(observed.filter((o) => o.method === 'load'), [{ method: 'load', code: a.code, failed: false }, { method: 'load', code: b.code, failed: false }]);
});
