// Two outputs:
//  - dist/: bundled entry points that ship (the CLI and the embedding worker it spawns).
//  - out/:  every TypeScript file transpiled one-to-one, for mocha and the bench scripts.
// Type checking is tsc's job (`npm run build` runs `tsc --noEmit` first); esbuild only emits.
import * as esbuild from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');

function tsFiles(dir) {
  let found = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules' || name === 'data') continue;
    if (statSync(full).isDirectory()) found = found.concat(tsFiles(full));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}

const common = { platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };

const bundles = {
  ...common,
  bundle: true,
  packages: 'external', // the CLI runs from an npm install: dependencies stay in node_modules
  entryPoints: { cli: 'src/cli/main.ts', embedWorker: 'src/core/embed/embedWorker.ts' },
  outdir: 'dist',
};

const transpiled = {
  ...common,
  entryPoints: ['src', 'test', 'bench', 'train'].flatMap((d) => { try { return tsFiles(d); } catch { return []; } }),
  outdir: 'out',
  outbase: '.',
};

if (watch) {
  for (const options of [bundles, transpiled]) (await esbuild.context(options)).watch();
} else {
  // Settle both before failing, so a broken bundle never leaves out/ half-written.
  const results = await Promise.allSettled([esbuild.build(bundles), esbuild.build(transpiled)]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
