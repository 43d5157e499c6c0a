/**
 * A plugin's reloads as the engine traces them (NODE_DEBUG=chronus:plugins, kernel/plugins/plugin-host.ts):
 * `<id> reloaded: bundle 11.2 ms, evaluate 3.0 ms, trial 9.1 ms, live 4.0 ms, lead 21.3 ms (began at <epoch ms>)`.
 * The steps run one after another from `began`; `lead` is how long after the last one the new
 * version's first block is heard.
 */
export interface ReloadTrace {
  /** Wall-clock ms since the epoch. */
  beganAt: number;
  steps: Map<string, number>;
  /** When the new version's first block is heard (wall-clock ms since the epoch). */
  heardAt: number;
}

export function reloadTraces(lines: readonly string[], plugin: string): ReloadTrace[] {
  const traces: ReloadTrace[] = [];
  for (const line of lines) {
    const traced = new RegExp(`${plugin} reloaded: (.*) \\(began at ([\\d.]+)\\)$`).exec(line);
    if (!traced) continue;
    const steps = new Map([...traced[1].matchAll(/(\w+) (-?[\d.]+) ms/g)].map(([, step, ms]) => [step, Number(ms)]));
    const beganAt = Number(traced[2]);
    let heardAt = beganAt;
    for (const ms of steps.values()) heardAt += ms;
    traces.push({ beganAt, steps, heardAt });
  }
  return traces;
}

/** Each save (wall-clock ms) with the first traced load that began after it (a burst of saves loads once). */
export function loadsOfSaves(saves: readonly number[], traces: readonly ReloadTrace[]): { save: number; trace: ReloadTrace }[] {
  const rows: { save: number; trace: ReloadTrace }[] = [];
  for (const save of saves) {
    const trace = traces.find((t) => t.beganAt >= save);
    if (trace && !rows.some((r) => r.trace === trace)) rows.push({ save, trace });
  }
  return rows;
}
