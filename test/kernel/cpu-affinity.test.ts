import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../kernel/base/config.ts';
import { allowedCpus, parseCpuList, parseDeviceInterrupts, pickAudioCpu, policyOf } from '../../kernel/platform/cpu-affinity.ts';
import { Engine } from '../../kernel/engine/engine.ts';
import { engineStatus } from '../../kernel/status/engine-status.ts';
import { Logger } from '../../kernel/base/logger.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from '../helpers/offline-engine.ts';

/** Each thread of this process → the CPUs it may run on. */
const threadCpusOf = (tid: string) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'))?.[1] ?? '';
const threadCpus = () => readdirSync('/proc/self/task').map(threadCpusOf);

test('cpu affinity: CPU lists as Linux writes them', () => {
  assert.deepEqual(parseCpuList('0-1'), [0, 1]);
  assert.deepEqual(parseCpuList('0-2,5,7-8'), [0, 1, 2, 5, 7, 8]);
  assert.deepEqual(parseCpuList('3'), [3]);
  assert.deepEqual(parseCpuList(''), []);
});

test('cpu affinity: the audio CPU is the allowed one that handles the fewest device interrupts', () => {
  // Rows as on this project's VMs: the disk's completions all land on CPU1.
  const text = [
    '           CPU0       CPU1       ',
    '  4:        361          0   IO-APIC   4-edge      ttyS0',
    ' 36:          0     760846   PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0',
    ' 31:          0       4475   PCI-MSIX-0000:00:01.0   3-edge      virtio0-stats',
    'LOC:    5995734    6423408   Local timer interrupts',
    'RES:    1155653    1079484   Rescheduling interrupts',
    'ERR:          0',
  ].join('\n');
  const irqs = parseDeviceInterrupts(text);
  assert.deepEqual(irqs, [361, 765321]);
  assert.equal(pickAudioCpu([0, 1], irqs), 0);
  assert.equal(pickAudioCpu([1], irqs), 1);
  assert.equal(pickAudioCpu([0, 1], [5, 5]), 1, 'equals: the last');
  assert.equal(pickAudioCpu([2, 3], []), 3, 'nothing known: the last');
  // Another engine's audio thread (or JACK) already real-time on CPU 0: not there, however quiet.
  assert.equal(pickAudioCpu([0, 1], irqs, [1, 0]), 1, 'away from a CPU with a real-time thread');
  assert.equal(pickAudioCpu([0, 1], irqs, [0.5, 0.5]), 0, 'equal real-time load: fewest interrupts');
});

test('cpu affinity: the scheduling policy is read from a task stat line, kernel threads aside', () => {
  // Fields as /proc numbers them: pid (comm) state …; flags is field 9, policy field 41.
  const fields = (flags: number, policy: number) => {
    const f = Array.from({ length: 52 }, () => '0');
    f[9 - 1] = String(flags);
    f[41 - 1] = String(policy);
    return `${f[0]} (node (worker) x) ${f.slice(2).join(' ')}`;
  };
  assert.equal(policyOf(fields(0x400000, 2)), 2, 'SCHED_RR');
  assert.equal(policyOf(fields(0x400000, 0)), 0, 'normal');
  assert.equal(policyOf(fields(0x00200000, 1)), -1, 'a kernel thread');
});

async function engineRoot(t: { after: (fn: () => unknown) => void }, local: object): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-cpu-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify(local));
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  return root;
}

const cpus = allowedCpus();

test('cpu affinity: while the engine plays, the audio thread has a CPU that no other thread may use; stopping gives it back', { skip: cpus.length < 2 && 'fewer than two CPUs' }, async (t) => {
  const root = await engineRoot(t, {});
  const before = threadCpus();
  const engine = await Engine.start({ config: loadConfig({ root, env: {} }), root, backend: 'null', listen: false, status: false, watch: false, log: Logger.silent() });
  let stopped = false;
  t.after(() => (stopped ? undefined : engine.stop()));
  const last = engineStatus(engine).audioCpu;
  assert.ok(last !== null && cpus.includes(last), `audio CPU ${last} of ${cpus.join(',')}`);
  const running = threadCpus();
  assert.equal(running.filter((c) => c === String(last)).length, 1, `one thread on CPU ${last}: ${running.join(' ')}`);
  if (process.getuid?.() === 0) {
    // taskset and chrt run as child processes while the plugins load: both are done before the clock starts.
    const audioTid = readdirSync('/proc/self/task').find((tid) => threadCpusOf(tid) === String(last));
    assert.equal(policyOf(readFileSync(`/proc/self/task/${audioTid}/stat`, 'utf8')), 2, 'the audio thread runs SCHED_RR (root may set it)');
  }
  for (const c of running.filter((x) => x !== String(last))) assert.ok(!parseCpuList(c).includes(last), `a control-side thread may use CPU ${last}: ${running.join(' ')}`);
  await engine.stop();
  stopped = true;
  assert.deepEqual([...new Set(threadCpus())], [...new Set(before)]);
});

test('cpu affinity: audio.dedicatedCpu false leaves every thread as it was', async (t) => {
  const root = await engineRoot(t, { audio: { dedicatedCpu: false } });
  const before = [...new Set(threadCpus())];
  const engine = await Engine.start({ config: loadConfig({ root, env: {} }), root, backend: 'null', listen: false, status: false, watch: false, log: Logger.silent() });
  t.after(() => engine.stop());
  assert.equal(engineStatus(engine).audioCpu, null);
  assert.deepEqual([...new Set(threadCpus())], before);
});
