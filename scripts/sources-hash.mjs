// The identity of the engine's source: a SHA-256 over the path, size and modification time of every
// file the prebuilt bundle is made from (stat only: reading them all would cost a start ~25 ms).
// bin/chronus.mjs runs dist/ only while this matches what the build recorded, so an edited kernel
// file is never shadowed by a stale bundle.
// Built-ins through process.getBuiltinModule: bin/chronus.mjs imports this at every start (an ES
// module's `import` of a built-in makes a module facade for it).
const { createHash } = process.getBuiltinModule('node:crypto');
const { readdirSync, statSync } = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

const SOURCE_DIRS = ['kernel', 'cli', 'plugin-sdk'];
const SOURCE_FILES = ['package.json', 'package-lock.json', 'tsconfig.json'];

function listFiles(root, dir, out) {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) listFiles(root, rel, out);
    else if (/\.(ts|mts|mjs|js|json)$/.test(entry.name)) out.push(rel);
  }
}

export function sourcesHash(root) {
  const files = [...SOURCE_FILES];
  for (const dir of SOURCE_DIRS) listFiles(root, dir, files);
  files.sort();
  const hash = createHash('sha256');
  for (const rel of files) {
    hash.update(rel);
    hash.update('\0');
    try {
      const stat = statSync(path.join(root, rel));
      hash.update(`${stat.size} ${stat.mtimeMs}`);
    } catch {
      hash.update('(missing)');
    }
    hash.update('\0');
  }
  return hash.digest('hex');
}
