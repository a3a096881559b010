// Loaded by VS Code's extension host as `extensionTestsPath` (from code-server via run.ts, or from a
// desktop VS Code via runElectron.ts): runs the mocha suites in out/test/extensionHost/suite/ inside
// the real extension host and resolves when they are done (rejects when any failed).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';

 
const Mocha = require('mocha') as typeof import('mocha');

/** The one line the runners parse, whatever the reporter printed before it. */
export const RESULT_PREFIX = 'BATON_INTEGRATION_RESULT ';
/** Marks the reporter's lines in the extension host's console, which also carries the workbench's own logging. */
export const REPORT_PREFIX = '[baton-test] ';

export function run(): Promise<void> {
  // Every reporter line goes through Base.consoleLog: tag it so run.ts can tell it from other output.
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const log = console.log.bind(console);
  base.consoleLog = (...args: unknown[]) => {
    for (const line of format(...args).split('\n')) log(`${REPORT_PREFIX}${line}`);
  };
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: 'spec',
    color: false,
    timeout: Number(process.env.BATON_TEST_TIMEOUT_MS ?? 120_000),
    grep: process.env.BATON_TEST_GREP || undefined,
  });
  const suiteDir = join(__dirname, 'suite');
  for (const name of readdirSync(suiteDir).sort()) {
    if (name.endsWith('.test.js')) mocha.addFile(join(suiteDir, name));
  }
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const stats = runner.stats ?? { passes: 0, failures };
        console.log(`${RESULT_PREFIX}${JSON.stringify({ passed: stats.passes, failed: stats.failures })}`);
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
    } catch (err) {
      console.error(err);
      reject(err);
    }
  });
}
