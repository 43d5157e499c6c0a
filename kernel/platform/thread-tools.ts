/** The calling thread as the system tools (taskset, chrt) name it, and those tools run without blocking it. */
import { execFile } from 'node:child_process';
import { readlinkSync } from 'node:fs';

/** The calling thread's Linux task id (from /proc/thread-self), or 0 where it cannot be read. */
export function thisTaskId(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop()) || 0;
  } catch {
    return 0;
  }
}

/** Whether `command args` ran and exited 0; never rejects (a missing tool is a false). */
export function succeeds(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile(command, args, { timeout: 5000 }, (error) => resolve(error === null)));
}
