// The same extension-host suites on a desktop VS Code, through @vscode/test-electron, for machines
// that have one (these CI machines do not: see run.ts, which uses code-server instead).
//   BATON_VSCODE_EXECUTABLE=/path/to/code node out/test/extensionHost/runElectron.js
// Without BATON_VSCODE_EXECUTABLE, test-electron downloads VS Code (needs network access to
// update.code.visualstudio.com). Dialog clicks are a code-server runner feature, so the "apply the
// fix" test is skipped here (it needs a person or a UI driver to press Apply).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT } from '../helpers/codeServer';
import { BROKEN_JSON, BROKEN_TS, startScriptedModel } from '../helpers/scriptedModel';
import { makeWorkspace } from '../helpers/workspace';

async function main(): Promise<number> {
  const workspace = makeWorkspace();
  workspace.write(BROKEN_JSON.path, BROKEN_JSON.text);
  workspace.write(BROKEN_TS.path, BROKEN_TS.text);
  const model = await startScriptedModel();
  const profile = mkdtempSync(join(tmpdir(), 'baton-electron-'));
  try {
    await runTests({
      ...(process.env.BATON_VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.BATON_VSCODE_EXECUTABLE } : {}),
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: join(REPO_ROOT, 'out', 'test', 'extensionHost', 'index.js'),
      launchArgs: [workspace.root, '--disable-extensions', '--disable-workspace-trust',
        '--user-data-dir', join(profile, 'user-data'), '--extensions-dir', join(profile, 'extensions')],
      extensionTestsEnv: { ...model.env, BATON_TEST_WORKSPACE: workspace.root, BATON_TEST_MODEL_URL: model.baseURL },
    });
    return 0;
  } catch (err) {
    console.error(`integration (electron): ${(err as Error).message}`);
    return 1;
  } finally {
    await model.stop();
    workspace.remove();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err: unknown) => { console.error(err); process.exit(1); });
