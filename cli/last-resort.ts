/**
 * The control thread's last line of defence while `chronus start` runs: an error nothing else caught
 * (an exception thrown from a callback, a rejected promise nobody handled) is logged and counted
 * (/engine/status → `uncaughtErrors`, `lastUncaught`), and the engine plays on. It is installed once
 * the engine runs, so a failure to start still ends the process with its message. Every such error is
 * a bug to fix where it happens: this only keeps the music going meanwhile.
 */
import type { Logger } from '../kernel/base/logger.ts';
import { cleanText, clipText } from '../kernel/osc/reply-bounds.ts';

/** Lines logged per second at most (a storm of errors is counted, not printed). */
const MAX_LOG_LINES_PER_SECOND = 10;
const MAX_LAST_CHARS = 500;

export interface LastResortTarget {
  readonly uncaught: { count: number; last: string };
  readonly log: Logger;
}

/** Installs the handlers (on `proc`, with `now` as the clock: tests pass stand-ins); returns a function that removes them. */
export function installLastResort(target: LastResortTarget, proc: NodeJS.Process = process, now: () => number = Date.now): () => void {
  let windowStart = 0;
  let logged = 0;
  const handle = (kind: string) => (reason: unknown) => {
    try {
      target.uncaught.count++;
      const text = describe(reason);
      target.uncaught.last = clipText(cleanText(`${kind}: ${text.split('\n')[0]}`, true), MAX_LAST_CHARS);
      const t = now();
      if (t - windowStart >= 1000) {
        windowStart = t;
        logged = 0;
      }
      // A broken stderr is itself the error: logging it would raise another one.
      if (++logged <= MAX_LOG_LINES_PER_SECOND && !isBrokenPipe(reason)) {
        target.log.error(`${kind}, caught by the last-resort handler (the engine plays on; ${target.uncaught.count} so far): ${clipText(text, 4000)}`);
      }
    } catch {
      // Nothing sane is left to do; never let the handler itself fail.
    }
  };
  const onException = handle('uncaught exception');
  const onRejection = handle('unhandled rejection');
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}

function describe(reason: unknown): string {
  try {
    if (reason instanceof Error) return reason.stack ?? `${reason.name}: ${reason.message}`;
    return typeof reason === 'string' ? reason : String(reason);
  } catch {
    return 'a value that cannot be described';
  }
}

function isBrokenPipe(reason: unknown): boolean {
  const code = reason !== null && typeof reason === 'object' ? (reason as { code?: unknown }).code : undefined;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED';
}
