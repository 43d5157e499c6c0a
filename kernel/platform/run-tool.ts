/** A system tool (chrt, taskset) run as a child process, without blocking the calling thread. */
import { execFile } from 'node:child_process';

/** Whether `command args` ran and exited 0; never rejects (a missing tool is a false). */
export function succeeds(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => execFile(command, args, { timeout: 5000 }, (error) => resolve(error === null)));
}
