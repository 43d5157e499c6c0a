/**
 * `--from` / `--to` of `chronus render --session`: a time from the session's start (`90`, `90.5`,
 * `12:00`, `1:02:03.5`) or a marker's label (`/engine/session/mark <label>`; the first with that label).
 */
import { SessionError } from './store.ts';

const CLOCK_RE = /^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$/;
const SECONDS_RE = /^\d+(?:\.\d+)?$/;

export function frameOf(text: string, option: string, sampleRate: number, marks: readonly { f: number; label: string }[]): number {
  const mark = marks.find((m) => m.label === text);
  if (mark !== undefined) return mark.f;
  let seconds: number | null = null;
  if (SECONDS_RE.test(text)) seconds = Number(text);
  const clock = CLOCK_RE.exec(text);
  if (clock) seconds = Number(clock[1] ?? 0) * 3600 + Number(clock[2]) * 60 + Number(clock[3]);
  if (seconds === null || !Number.isFinite(seconds)) {
    const labels = marks.length > 0 ? `its markers: ${[...new Set(marks.map((m) => m.label))].slice(0, 10).join(', ')}` : 'the session has no markers';
    throw new SessionError(`${option} '${text.slice(0, 80)}' is neither a time (seconds, mm:ss or hh:mm:ss) nor a marker label (${labels})`);
  }
  return Math.round(seconds * sampleRate);
}
