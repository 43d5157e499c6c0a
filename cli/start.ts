/** `chronus start`: run the engine until SIGINT/SIGTERM, under a supervisor (cli/supervisor.ts) that filters native output and starts a dead or frozen engine again. */
import type { Config } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Slot } from '../kernel/audio/shared-state.ts';
import { keepCarryOver, restoreCarryOver } from './carry-over.ts';
import { installLastResort } from './last-resort.ts';
import { supervise, type EngineReport, type HeldOut, type UnderflowReport } from './supervisor.ts';
import { SessionJournal } from './session/journal.ts';
import { boundHeapGrowth } from './heap-sizing.ts';

const STOP_DEADLINE_MS = 1000;
/** A message to a supervisor that is going away is dropped (an unhandled send 'error' would be an uncaught exception). */
const ignoreSendError = (): void => undefined;

export async function startCommand(config: Config, root: string): Promise<number> {
  if (config.audio.backend === 'offline') {
    // The offline backend renders as fast as it can into a file: there is nothing to listen to or play.
    throw new Error(
      'start plays in real time, but audio.backend is "offline" (CHRONUS_AUDIO=offline?), which only renders a score to a file: ' +
        'run `npx chronus render score.json -o out.wav`, or start with CHRONUS_AUDIO=auto, device or null',
    );
  }
  if (process.env.CHRONUS_SUPERVISED !== '1') return supervise(process.argv.slice(1));
  // The engine plays for hours on this thread (cli/heap-sizing.ts; its young generation is capped by the supervisor).
  boundHeapGrowth();
  const stopBeating = beatForSupervisor(config);
  const heldOut = readHeldOut();
  const session: { journal: SessionJournal | null } = { journal: null };
  const engine = await Engine.start({
    config,
    root,
    attach: async (e) => {
      for (const { id, reason } of heldOut) e.plugins.holdOut(id, reason);
      e.plugins.onHeldOutLoaded = (id) => process.send?.({ released: id } satisfies EngineReport, undefined, undefined, ignoreSendError);
      if (process.env.CHRONUS_RESTARTED) e.log.error(`started again by its supervisor: ${process.env.CHRONUS_RESTARTED}`);
      if (config.sessions.enabled) session.journal = await SessionJournal.attach(e, config.paths.sessions, config.sessions);
    },
  });
  // From here on nothing that goes wrong on this thread ends the process: it is logged and counted.
  const removeLastResort = installLastResort(engine);
  const carryFile = process.env.CHRONUS_CARRY;
  if (carryFile && process.env.CHRONUS_RESTARTED) engine.log.info(await restoreCarryOver(engine, carryFile));
  const stopCarrying = carryFile ? keepCarryOver(engine, carryFile, (text) => engine.log.warn(text)) : () => undefined;
  const { transport, audio } = engine;
  let counted = 0;
  // Under a supervisor: if it goes away (even by SIGKILL) the IPC channel closes, and so do we.
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.on('message', (m: UnderflowReport) => {
    if (typeof m?.underflows !== 'number') return;
    audio.shared.values[Slot.Xruns] += m.underflows - counted;
    counted = m.underflows;
  });
  engine.log.info(`${audio.backend} backend, ${audio.sampleRate} Hz, ${audio.blockSize}-frame blocks; ${engine.plugins.loaded.size} plugins`);
  // Handled before the line below is out: a script that stops the engine as soon as it reads the line
  // would otherwise, on a busy machine, find SIGTERM's default action still in place (no clean stop).
  const stopAsked = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  // The one machine-readable line: tests and scripts wait for it to learn the port.
  process.stdout.write(`chronus: listening on ${transport?.host}:${transport?.port}\n`);
  await stopAsked;
  engine.log.info('stopping');
  // Whatever the audio thread or a file is doing, the engine is gone within a second; a second
  // signal ends it at once.
  const deadline = setTimeout(() => {
    engine.log.error(`stopping took longer than ${STOP_DEADLINE_MS} ms; exiting`);
    process.exit(1);
  }, STOP_DEADLINE_MS);
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  // Before the audio thread goes: a capture it could no longer answer would be reported as a failure.
  stopCarrying();
  await engine.stop();
  await session.journal?.close().catch((e: Error) => engine.log.error(`session journal: ${e.message}`));
  clearTimeout(deadline);
  removeLastResort();
  stopBeating();
  process.disconnect?.();
  return 0;
}

/** Twice a second: "alive" to the supervisor, which restarts an engine silent for longer than the grace given. */
function beatForSupervisor(config: Config): () => void {
  if (!process.send) return () => undefined;
  // A call into a control half may legitimately take up to engine.controlCallMs before it is stopped.
  const graceMs = Math.max(5000, 2 * config.engine.controlCallMs);
  const beat = () => process.send?.({ beat: Date.now(), graceMs } satisfies EngineReport, undefined, undefined, ignoreSendError);
  beat();
  const timer = setInterval(beat, 500);
  return () => clearInterval(timer);
}

/** The plugins the supervisor keeps out of this start (they brought the last engine down). */
function readHeldOut(): HeldOut {
  try {
    const held = JSON.parse(process.env.CHRONUS_HELD_OUT ?? '[]') as unknown;
    return Array.isArray(held) ? held.filter((h): h is HeldOut[number] => typeof h?.id === 'string' && typeof h?.reason === 'string') : [];
  } catch {
    return [];
  }
}
