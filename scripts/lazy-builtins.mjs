// An esbuild plugin for the CLI bundle: Node built-ins that only some commands use are loaded when a
// command first touches them, not when the module importing them is set up. A render sets up the
// engine's modules, which import the OSC socket (dgram, net), the audio worker's host (worker_threads,
// child_process for chrt/taskset) and the progress bar's terminal (readline), and uses none of them:
// loading them cost an empty render ≈ 10 ms (Node compiles each built-in's own modules on first load).
//
// Each such import becomes an object with a getter per export (the names as this Node has them at
// build time) that loads the module on first use; esbuild reads imports as properties at their use
// (`import_node_dgram.createSocket(...)`), so nothing is loaded before it is needed.
import { createRequire } from 'node:module';

const LAZY = ['child_process', 'dgram', 'net', 'readline', 'worker_threads'];
const require = createRequire(import.meta.url);

export const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const filter = new RegExp(`^(node:)?(${LAZY.join('|')})$`);
    build.onResolve({ filter }, (args) => {
      // The loader's own require of the module is the real one.
      if (args.namespace === 'lazy-builtin') return { path: args.path, external: true };
      return { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const names = Object.keys(require(`node:${args.path}`)).filter((name) => name !== 'default');
      const getters = names.map((name) => `${JSON.stringify(name)}: { get: () => load()[${JSON.stringify(name)}], enumerable: true }`);
      return {
        loader: 'js',
        contents: `let real;\nconst load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));\nmodule.exports = Object.defineProperties({}, {\n  ${getters.join(',\n  ')}\n});\n`,
      };
    });
  },
};
