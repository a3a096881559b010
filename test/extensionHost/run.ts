// Integration runner: Baton inside a real VS Code extension host, on machines without a desktop
// VS Code. Starts a scripted OpenAI-protocol model server, code-server (Node 24, from .vscode-tools)
// with that model in its environment, and headless Chromium on the workbench URL with an
// extension-development payload; the extension host runs test/extensionHost/index.js (mocha) and
// its console comes back through `codeAutomationLog`, its exit code through `codeAutomationExit`.
// Ends with `N passed, N failed`. Usage: node out/test/extensionHost/run.js [--grep PATTERN] [--verbose]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser } from '../helpers/browser';
import { REPO_ROOT, ensureTools, startCodeServer, workbenchUrl } from '../helpers/codeServer';
import { BROKEN_JSON, BROKEN_TS, startScriptedModel } from '../helpers/scriptedModel';
import { makeWorkspace } from '../helpers/workspace';
import { REPORT_PREFIX, RESULT_PREFIX } from './index';
import { format } from 'node:util';

let printed = false;
const TIMEOUT_MS = Number(process.env.BATON_INTEGRATION_TIMEOUT_MS ?? 10 * 60_000);

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const verbose = argv.includes('--verbose');
  const grepAt = argv.indexOf('--grep');
  const grep = grepAt >= 0 ? argv[grepAt + 1] : process.env.BATON_TEST_GREP;

  for (const built of ['dist/extension.js', 'dist/server.js', 'out/test/extensionHost/index.js']) {
    if (!existsSync(join(REPO_ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` (or \`node esbuild.mjs\`) first`);
  }
  ensureTools();

  const workspace = makeWorkspace();
  workspace.write(BROKEN_JSON.path, BROKEN_JSON.text);
  workspace.write(BROKEN_TS.path, BROKEN_TS.text);
  const model = await startScriptedModel();
  let codeServer: Awaited<ReturnType<typeof startCodeServer>> | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  const started = Date.now();
  let result: { passed: number; failed: number } | undefined;
  let log = '';
  try {
    codeServer = await startCodeServer({
      verbose,
      env: {
        ...model.env,
        BATON_TEST_WORKSPACE: workspace.root,
        BATON_TEST_MODEL_URL: model.baseURL,
        BATON_TEST_GREP: grep,
        BATON_TEST_TIMEOUT_MS: process.env.BATON_TEST_TIMEOUT_MS,
      },
    });
    browser = await launchBrowser();
    const page = browser.page;
    let exitCode: number | undefined;
    const exited = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => { exitCode = code; resolve(code); });
    });
    // The workbench's log sink: the extension host's console arrives here as console.log arguments.
    await page.exposeFunction('codeAutomationLog', (level: string, message: unknown) => {
      const line = Array.isArray(message) ? format(...message) : String(message);
      log += `${line}\n`;
      for (const l of line.split('\n')) {
        if (l.startsWith(RESULT_PREFIX)) result = JSON.parse(l.slice(RESULT_PREFIX.length));
        else if (l.startsWith(REPORT_PREFIX)) process.stdout.write(`${l.slice(REPORT_PREFIX.length)}\n`);
        else if (verbose) process.stdout.write(`[workbench ${level}] ${l}\n`);
      }
    });
    if (verbose) page.on('console', (m) => process.stderr.write(`[browser ${m.type()}] ${m.text()}\n`));
    const url = workbenchUrl(codeServer, workspace.root, {
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: join(REPO_ROOT, 'out', 'test', 'extensionHost', 'index.js'),
    });
    console.log(`integration: code-server ${codeServer.url}, model ${model.baseURL}, workspace ${workspace.root}`);
    await page.goto(url);
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), TIMEOUT_MS).unref());
    const outcome = await Promise.race([exited, timer]);
    if (outcome === 'timeout') {
      console.error(`integration: the extension host did not finish within ${TIMEOUT_MS / 1000} s`);
      await page.screenshot({ path: join(REPO_ROOT, 'test', 'browser', 'artifacts', 'integration-timeout.png') }).catch(() => undefined); // playwright creates the folder
      exitCode = 1;
    }
    console.log(`integration: extension host exited with ${exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!result) {
      // No result line: the tests never ran (activation failure, a bad payload...). Count it as one failure.
      console.error('integration: no test result was reported; extension host output:');
      if (!verbose) console.error(log.slice(-6000));
      if (codeServer) console.error(codeServer.output().slice(-4000));
      result = { passed: 0, failed: 1 };
    }
    if (exitCode !== 0 && result.failed === 0) result.failed = 1;
    return result.failed === 0 ? 0 : 1;
  } finally {
    await browser?.close();
    await codeServer?.stop();
    await model.stop();
    workspace.remove();
    const r = result ?? { passed: 0, failed: 1 };
    console.log(`${r.passed} passed, ${r.failed} failed`);
    printed = true;
  }
}

// Ctrl-C / kill: exit through process.exit so the 'exit' hooks stop code-server's process group.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().then((code) => process.exit(code), (err) => {
  console.error(`integration: ${(err as Error).stack ?? err}`);
  if (!printed) console.log('0 passed, 1 failed');
  process.exit(1);
});
