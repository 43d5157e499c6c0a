/** See sources-hash.mjs: the stamp of the files dist/ is built from, under `root`. */
export function sourcesHash(root: string): string;
