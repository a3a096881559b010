// `npm test` after the build: every stage CI runs, one after the other, with one combined closing
// line `N passed, N failed`.
//   unit           mocha on out/test/unit: in-process, real files and HTTP servers on 127.0.0.1
//   process        mocha on out/test/process: tests that start the CLI, the language server,
//                  worker threads or Chromium as separate processes
//   extensionHost  mocha inside a real VS Code extension host (code-server + Chromium; run.ts)
//   browser        the packaged VSIX in code-server, driven through the UI in Chromium
// BATON_TEST_STAGES=unit,process picks stages (the old names integration and e2e still work). The
// VS Code tools (.vscode-tools/) are installed on first use by scripts/install-vscode-tools.sh.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM } from './helpers/browser';
import { REPO_ROOT, ensureTools } from './helpers/codeServer';

interface Stage { name: string; args: string[]; needsVsCode: boolean; parse: (out: string) => { passed: number; failed: number } | null }

/** The last `N passed, N failed` line (the custom runners' closing line). */
function closingLine(out: string): { passed: number; failed: number } | null {
  const all = [...out.matchAll(/^(\d+) passed, (\d+) failed\s*$/gm)];
  const last = all[all.length - 1];
  return last ? { passed: Number(last[1]), failed: Number(last[2]) } : null;
}

/** Mocha's spec reporter: "N passing (..)", "N failing". */
function mochaSummary(out: string): { passed: number; failed: number } | null {
  const passing = [...out.matchAll(/^\s*(\d+) passing\b/gm)].pop();
  const failing = [...out.matchAll(/^\s*(\d+) failing\b/gm)].pop();
  if (!passing && !failing) return null;
  return { passed: Number(passing?.[1] ?? 0), failed: Number(failing?.[1] ?? 0) };
}

const MOCHA = join(REPO_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');

const STAGES: Stage[] = [
  { name: 'unit', args: [MOCHA, 'out/test/unit/**/*.test.js'], needsVsCode: false, parse: mochaSummary },
  { name: 'process', args: [MOCHA, 'out/test/process/**/*.test.js'], needsVsCode: false, parse: mochaSummary },
  { name: 'extensionHost', args: [join(REPO_ROOT, 'out', 'test', 'extensionHost', 'run.js')], needsVsCode: true, parse: closingLine },
  { name: 'browser', args: [join(REPO_ROOT, 'out', 'test', 'browser', 'run.js')], needsVsCode: true, parse: closingLine },
];
/** Earlier names of the stages, still accepted in BATON_TEST_STAGES. */
const ALIASES: Record<string, string> = { integration: 'extensionHost', e2e: 'browser' };

function runStage(stage: Stage): Promise<{ passed: number; failed: number; code: number | null; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, stage.args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); process.stdout.write(d); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); process.stderr.write(d); });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.once('SIGINT', forward);
    process.once('SIGTERM', forward);
    child.on('close', (code) => {
      process.removeListener('SIGINT', forward);
      process.removeListener('SIGTERM', forward);
      const counts = stage.parse(out) ?? { passed: 0, failed: 0 };
      // A stage that failed without reporting a failing test (a crash, a timeout) still counts as one.
      if (code !== 0 && counts.failed === 0) counts.failed = 1;
      resolve({ ...counts, code, seconds: (Date.now() - started) / 1000 });
    });
  });
}

async function main(): Promise<number> {
  const wanted = (process.env.BATON_TEST_STAGES ?? STAGES.map((s) => s.name).join(','))
    .split(',').map((s) => s.trim()).filter(Boolean).map((s) => ALIASES[s] ?? s);
  const stages = STAGES.filter((s) => wanted.includes(s.name));
  const results: Array<{ name: string; passed: number; failed: number; seconds: number; code: number | null }> = [];
  for (const stage of stages) {
    console.log(`\n=== ${stage.name} ===`);
    if (stage.needsVsCode) {
      try {
        ensureTools();
        if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
      } catch (err) {
        console.error(`${stage.name}: ${(err as Error).message}`);
        results.push({ name: stage.name, passed: 0, failed: 1, seconds: 0, code: 1 });
        continue;
      }
    }
    results.push({ name: stage.name, ...(await runStage(stage)) });
  }
  console.log('\n=== summary ===');
  for (const r of results) console.log(`${r.name.padEnd(14)} ${String(r.passed).padStart(4)} passed ${String(r.failed).padStart(3)} failed  ${r.seconds.toFixed(0).padStart(4)} s`);
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && results.every((r) => r.code === 0) ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
