export interface ImportCycle {
  /** A shortest circle through the component's first file, ending where it starts. */
  path: string[];
  /** Every file of the strongly connected component. */
  files: string[];
}
export function importGraph(root: string, dirs: readonly string[], ignore?: readonly string[]): Map<string, string[]>;
export function stronglyConnected(graph: Map<string, string[]>): string[][];
export function findCycles(root: string, dirs?: readonly string[], options?: { ignore?: readonly string[] }): ImportCycle[];
export function describeCycle(cycle: ImportCycle): string;
