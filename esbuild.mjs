// Outputs:
//  - dist/: bundled entry points that ship: the CLI, the language server and the embedding worker
//    (dependencies stay in node_modules), the extension (everything but `vscode` bundled) and the
//    chat webview's script (a browser bundle).
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

const common = { platform: 'node', target: 'node22', format: 'cjs', sourcemap: true, logLevel: 'warning' };

const bundles = {
  ...common,
  bundle: true,
  packages: 'external', // the CLI runs from an npm install: dependencies stay in node_modules
  entryPoints: { cli: 'src/cli/main.ts', server: 'src/server/main.ts', embedWorker: 'src/core/embed/embedWorker.ts' },
  outdir: 'dist',
};

// The extension host loads one file; only `vscode` (provided by the host) stays external.
const extension = {
  ...common,
  bundle: true,
  external: ['vscode'],
  entryPoints: { extension: 'src/extension/extension.ts' },
  outdir: 'dist',
};

const webview = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  minify: true, // most of it is zod's validators; the webview loads it on every show
  sourcemap: true,
  logLevel: 'warning',
  entryPoints: { chat: 'src/webview/chat.ts' },
  outdir: 'dist/webview',
};

const transpiled = {
  ...common,
  entryPoints: ['src', 'test', 'bench', 'train'].flatMap((d) => { try { return tsFiles(d); } catch { return []; } }),
  outdir: 'out',
  outbase: '.',
};

if (watch) {
  for (const options of [bundles, extension, webview, transpiled]) (await esbuild.context(options)).watch();
} else {
  // Settle both before failing, so a broken bundle never leaves out/ half-written.
  const results = await Promise.allSettled([bundles, extension, webview, transpiled].map((o) => esbuild.build(o)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
