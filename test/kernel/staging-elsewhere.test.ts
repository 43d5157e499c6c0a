/**
 * A staging request that reaches a standby just as it became the audio thread is answered "ask
 * elsewhere" (kernel/audio/audio-worker-main.ts): the stager asks the next thread, three threads in
 * all, and only then refuses the version. The threads here are real workers; the promoted standby is
 * a stand-in that answers every request as the audio thread does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { PluginStager, StagingError, StagingThread, type TrialThreads } from '../../kernel/plugins/plugin-staging.ts';

const PROMOTED_STANDBY = `const { parentPort } = require('node:worker_threads');
parentPort.on('message', (m) => {
  if (m.staging) parentPort.postMessage({ staged: { id: m.staging.id, ok: false, message: 'the standby became the audio thread', elsewhere: true } });
});`;

const PLUGIN = "module.exports = { default: require('plugin-sdk').definePlugin({ params: {}, create: () => ({ process() {} }) }) };";

/** Hands out `promoted` stand-ins first, then a staging worker of its own; records which it gave. */
class Threads implements TrialThreads {
  readonly given: string[] = [];
  private readonly started: Worker[] = [];
  private readonly staging = new StagingThread(256);

  constructor(private promoted: number) {}

  async acquire(): Promise<Worker> {
    if (this.promoted > 0) {
      this.promoted--;
      this.given.push('promoted standby');
      const worker = new Worker(PROMOTED_STANDBY, { eval: true });
      this.started.push(worker);
      return worker;
    }
    this.given.push('staging worker');
    return this.staging.acquire();
  }

  discard(worker: Worker): void {
    this.staging.discard(worker);
  }

  idle(): void {}

  async close(): Promise<void> {
    await Promise.all(this.started.map((w) => w.terminate()));
    await this.staging.close();
  }
}

/** A stager over `threads`, with nothing taken from the trial cache (no build stamp): every request reaches a thread. */
function stagerOver(threads: Threads, t: { after(fn: () => Promise<void>): void }): PluginStager {
  const saved = process.env.CHRONUS_SOURCES;
  delete process.env.CHRONUS_SOURCES;
  const stager = new PluginStager({ timeoutMs: 10_000, memoryMb: 256 }, threads);
  t.after(async () => {
    if (saved !== undefined) process.env.CHRONUS_SOURCES = saved;
    await stager.close();
  });
  return stager;
}

test('a request answered "ask elsewhere" is asked again of the next thread, which answers it', async (t) => {
  const threads = new Threads(1);
  const stager = stagerOver(threads, t);
  await stager.evaluate(PLUGIN, '/plugins/quiet/index.js');
  assert.deepEqual(threads.given, ['promoted standby', 'staging worker']);
});

test('after three threads that all say "ask elsewhere" the version is refused with their reason', async (t) => {
  const threads = new Threads(3);
  const stager = stagerOver(threads, t);
  await assert.rejects(stager.evaluate(PLUGIN, '/plugins/quiet/index.js'), (e: Error) => e instanceof StagingError && /the standby became the audio thread/.test(e.message));
  assert.deepEqual(threads.given, ['promoted standby', 'promoted standby', 'promoted standby']);
});
