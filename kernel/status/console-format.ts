/**
 * What the engine prints on its console for people (pure functions, control thread): the readable
 * forms of `/engine/status`, `/engine/list`, `/engine/schema stdout`, other `…/status` replies and
 * `/error`, in the old engine's manner (a banner, then one fact per line).
 */
import type { EngineStatus } from './engine-status.ts';

const RULE = '='.repeat(50);
/** A value shown in a generic block is cut to this many characters. */
const MAX_VALUE_CHARS = 200;

/** `title` between two rules, then the lines, then a rule (the old engine's banner). */
export function banner(title: string, lines: readonly string[]): string[] {
  return ['', RULE, title, RULE, ...lines, `${RULE}`, ''];
}

export function formatStatus(s: EngineStatus): string[] {
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const state = s.stopped ? 'stopped (/engine/stop; /engine/start resumes)' : s.running ? 'running' : 'not running';
  return banner('CHRONUS ENGINE STATUS', [
    `Audio: ${state}, ${s.backend} backend`,
    `Sample rate: ${s.sampleRate} Hz, ${s.blockSize}-frame blocks (${((s.blockSize / s.sampleRate) * 1000).toFixed(1)} ms)`,
    `Time: ${s.seconds.toFixed(1)} s (${s.framesRendered} frames), xruns ${s.xruns}`,
    `Level: peak ${s.peak.toFixed(4)}, rms ${s.rms.toFixed(4)}; gates open ${s.activeGates}`,
    `Messages: ${s.messages}, errors ${s.errors} (unknown address ${s.unknownAddress}, bad arguments ${s.badArgs}, bad packets ${s.badPackets}), late ${s.late}, clamped ${s.clamped}, extra arguments ignored ${s.extraArgs}`,
    `Last message: ${s.lastMessage || '-'}`,
    `Recording: ${s.recording ? 'yes' : 'no'}`,
    `Block time: p50 ${ms(s.blockMs.p50)}, p99 ${ms(s.blockMs.p99)}, max ${ms(s.blockMs.max)} (deadline ${ms(s.blockMs.deadline)})`,
    `Plugins: ${s.plugins.join(', ')}`,
    `Uptime: ${s.uptimeSeconds.toFixed(0)} s`,
  ]);
}

/** `/engine/list`'s text: one module per line. */
export function formatList(text: string): string[] {
  return banner('AVAILABLE MODULES', text.split('\n').map((l) => `  ${l}`));
}

export function formatSchema(schema: unknown): string[] {
  return banner('ENGINE PARAMETER SCHEMA', JSON.stringify(schema, null, 2).split('\n'));
}

/** Any other `…/status` reply (JSON object): `[SEQ] bpm: 120, swing: 0, …` on one line per key. */
export function formatStatusReply(address: string, value: unknown): string[] {
  const tag = `[${(address.split('/').filter(Boolean)[0] ?? 'status').toUpperCase()}]`;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${tag} ${address}: ${show(value)}`];
  const lines = [`${tag} ${address}:`];
  for (const [key, v] of Object.entries(value)) lines.push(`  ${key}: ${show(v)}`);
  return lines;
}

export function formatError(address: string, code: string, message: string): string {
  return `[ERROR] ${address || '(packet)'} ${code}: ${message}`;
}

/** A value on one line: arrays of named objects by their names, the rest as compact JSON, clipped. */
function show(v: unknown): string {
  let text: string;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string')) {
    text = (v as { name: string }[]).map((x) => x.name).join(', ');
  } else if (typeof v === 'string') text = v;
  else text = JSON.stringify(v) ?? String(v);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}
