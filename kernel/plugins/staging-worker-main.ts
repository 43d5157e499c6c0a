/**
 * The staging worker: a thread of its own where every new plugin version is evaluated and tried
 * before it reaches the audio thread (kernel/plugins/plugin-staging.ts starts it, sets its time limit and
 * reads the answers). An endless loop here costs a terminated worker, not the engine; memory a
 * version takes is measured on this thread's own heap and array buffers.
 */
import { parentPort } from 'node:worker_threads';
import { evaluateControl, evaluatePlugin } from './plugin-runtime.ts';
import { runTrial, type TrialRequest } from './plugin-trial.ts';

export type StagingRequest = { id: number } & ({ kind: 'evaluate'; code: string; filename: string; half?: 'audio' | 'control' } | ({ kind: 'trial' } & TrialRequest));
export type StagingAnswer = { id: number } & ({ ok: true; report?: unknown } | { ok: false; message: string });

const port = parentPort!;
port.on('message', (m: StagingRequest) => {
  let answer: StagingAnswer;
  try {
    if (m.kind === 'evaluate') {
      if (m.half === 'control') evaluateControl(m.code, m.filename);
      else evaluatePlugin(m.code, m.filename);
      answer = { id: m.id, ok: true };
    } else answer = { id: m.id, ok: true, report: runTrial(m) };
  } catch (e) {
    answer = { id: m.id, ok: false, message: (e as Error)?.message ?? String(e) };
  }
  port.postMessage(answer);
});
// Loading this thread's code is not part of any version's time limit: say when it is ready.
port.postMessage({ loaded: true });
