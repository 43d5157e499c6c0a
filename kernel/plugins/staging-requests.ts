/**
 * Answering the staging requests of kernel/plugins/plugin-staging.ts, in whichever thread runs them:
 * the standby audio thread (real time: kernel/audio/audio-worker-main.ts) or a staging worker of its
 * own (kernel/plugins/staging-worker-main.ts, for an engine without one). Requests and answers travel
 * wrapped (`{ staging }`, `{ staged }`) so that they never mix with the audio thread's own messages.
 */
import type { PluginDefinition } from '../../plugin-sdk/types.ts';
import { evaluateControl, evaluatePlugin } from './plugin-runtime.ts';
import { MemoryLimitError, memoryInUse, runTrial, type Evaluated, type TrialRequest } from './plugin-trial.ts';

export type StagingRequest = { id: number } & ({ kind: 'evaluate'; code: string; filename: string; half?: 'audio' | 'control' } | ({ kind: 'trial' } & TrialRequest));
export type StagingAnswer = { id: number } & (
  | { ok: true; report?: unknown }
  | {
      ok: false;
      message: string;
      /** The version took more memory than it may: the thread's heap may have grown with it, end the thread. */
      spent?: boolean;
      /** Not run: this thread no longer takes requests (a standby that has become the audio thread); ask another. */
      elsewhere?: boolean;
      /** Not run: a trial by reference of code this thread has not just evaluated; send it with the code. */
      codeNeeded?: boolean;
    }
);

/** The audio half evaluated last, for its trial, which follows (a second realm and compile per version cost time and memory). */
let last: (Evaluated & { code: string }) | null = null;

function evaluateAudio(code: string, filename: string): Evaluated & { code: string } {
  const base = memoryInUse();
  return { code, definition: evaluatePlugin(code, filename), base };
}

/** `passed`: told of a version that passed its trial, with the definition it was tried as. */
export function answerStaging(m: StagingRequest, passed?: (slotId: number, definition: PluginDefinition) => void): StagingAnswer {
  try {
    if (m.kind === 'evaluate') {
      last = null;
      if (m.half === 'control') evaluateControl(m.code, m.filename);
      else last = evaluateAudio(m.code, m.filename);
      return { id: m.id, ok: true };
    }
    // By reference: the code is that of the evaluation just before (kernel/plugins/plugin-staging.ts).
    if (m.spec.codeByReference) {
      if (last === null) return { id: m.id, ok: false, message: 'the code of this version is not here', codeNeeded: true };
      const { codeByReference: _sent, ...spec } = m.spec;
      m = { ...m, spec: { ...spec, code: last.code } };
    }
    const evaluated = last?.code === m.spec.code ? last : undefined;
    last = null;
    const report = runTrial(m, evaluated);
    // Without an evaluation just before, the trial evaluated it: this thread's last evaluation.
    passed?.(m.spec.slotId, evaluated?.definition ?? evaluatePlugin(m.spec.code, m.spec.filename));
    return { id: m.id, ok: true, report };
  } catch (e) {
    return { id: m.id, ok: false, message: (e as Error)?.message ?? String(e), spent: e instanceof MemoryLimitError };
  }
}
