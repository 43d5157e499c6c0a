/** `chronus sessions [list|prune]`: the journaled sessions in `paths.sessions`, and the retention caps applied now. */
import type { Config } from '../kernel/base/config.ts';
import { listSessions, pruneSessions } from './session/store.ts';

function size(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export async function sessionsCommand(config: Config, args: string[]): Promise<number> {
  const root = config.paths.sessions;
  const [action = 'list'] = args;
  if (action === 'prune') {
    const removed = await pruneSessions(root, config.sessions);
    process.stdout.write(removed.length > 0 ? `removed ${removed.join(', ')}\n` : `nothing to remove (caps: ${config.sessions.maxCount} sessions, ${size(config.sessions.maxBytes)})\n`);
    return 0;
  }
  if (action !== 'list') throw new Error(`sessions takes 'list' or 'prune' (found '${action}')`);
  const sessions = await listSessions(root);
  if (sessions.length === 0) process.stdout.write(`no sessions in ${root}\n`);
  for (const s of sessions) {
    const state = s.live ? 'recording' : s.closed ? 'closed' : 'ended without closing (replays up to its last flush)';
    process.stdout.write(`${s.id}  ${size(s.bytes).padStart(10)}  ${s.modified.toISOString()}  ${state}\n`);
  }
  return 0;
}
