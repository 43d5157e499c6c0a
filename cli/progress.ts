/** A progress bar in seconds of audio on stderr (only on a terminal): what `chronus render` shows. */
import cliProgress from 'cli-progress';

export interface RenderProgress {
  /** `done` and `total` in frames. */
  onProgress(done: number, total: number): void;
  stop(): void;
}

export function renderProgress(verb: string, sampleRate: number): RenderProgress {
  const bar = process.stderr.isTTY ? new cliProgress.SingleBar({ format: `${verb} [{bar}] {percentage}% {value}/{total} s` }, cliProgress.Presets.shades_classic) : null;
  let started = false;
  return {
    onProgress(done, total) {
      if (!bar) return;
      if (!started) bar.start(Math.round(total / sampleRate), 0);
      started = true;
      bar.update(Math.floor(done / sampleRate));
    },
    stop: () => bar?.stop(),
  };
}
