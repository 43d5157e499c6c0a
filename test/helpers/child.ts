/** Child processes for tests: spawn, read stdout line by line, kill on demand; never left running (60 s cap). */
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from './offline-engine.ts';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Spawn `cmd args` in the project folder; `onLine` sees each stdout line and can kill the child (SIGKILL). */
export function spawnChild(cmd: string, args: string[], onLine: (line: string, kill: () => void) => void): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let rest = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      rest += d.toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const line = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        onLine(line, () => child.kill('SIGKILL'));
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}
