/**
 * The staging worker: a thread of its own where every new plugin version is evaluated and tried
 * before it reaches the audio thread (kernel/plugins/plugin-staging.ts starts it, sets its time limit and
 * reads the answers). An endless loop here costs a terminated worker, not the engine; memory a
 * version takes is measured on this thread's own heap and array buffers.
 */
import { parentPort } from 'node:worker_threads';
import { evaluateControl, evaluatePlugin } from './plugin-runtime.ts';
import { memoryInUse, runTrial, type Evaluated, type TrialRequest } from './plugin-trial.ts';

export type StagingRequest = { id: number } & ({ kind: 'evaluate'; code: string; filename: string; half?: 'audio' | 'control' } | ({ kind: 'trial' } & TrialRequest));
export type StagingAnswer = { id: number } & ({ ok: true; report?: unknown } | { ok: false; message: string });

const port = parentPort!;
/** The audio half evaluated last, for its trial, which follows (a second realm and compile per version cost time and memory). */
let last: (Evaluated & { code: string }) | null = null;
port.on('message', (m: StagingRequest) => {
  let answer: StagingAnswer;
  try {
    if (m.kind === 'evaluate') {
      last = null;
      if (m.half === 'control') evaluateControl(m.code, m.filename);
      else {
        const base = memoryInUse();
        last = { code: m.code, definition: evaluatePlugin(m.code, m.filename), base };
      }
      answer = { id: m.id, ok: true };
    } else {
      const evaluated = last?.code === m.spec.code ? last : undefined;
      last = null;
      answer = { id: m.id, ok: true, report: runTrial(m, evaluated) };
    }
  } catch (e) {
    answer = { id: m.id, ok: false, message: (e as Error)?.message ?? String(e) };
  }
  port.postMessage(answer);
});
// Loading this thread's code is not part of any version's time limit: say when it is ready.
port.postMessage({ loaded: true });
