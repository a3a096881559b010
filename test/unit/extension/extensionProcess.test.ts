import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { runShellCommand } from '../../../src/extension/lsp/processRunner';
import { withoutVariables } from '../../../src/base/common/envFilter';

const opts = { cwd: tmpdir(), timeoutMs: 10_000, maxChars: 1000 };

describe('extension: runCommand host', function () {
  if (process.platform === 'win32') return;

  it('captures stdout, stderr and the exit code in the given folder', async () => {
    const result = await runShellCommand('pwd; echo oops >&2; exit 3', opts);
    assert.equal(result.exitCode, 3);
    assert.equal(result.stdout.trim().length > 0, true);
    assert.equal(result.stderr, 'oops\n');
  });

  it('runs with the environment it is given: the withheld key variables are gone, the rest stays', async () => {
    const env = withoutVariables({ ...process.env, OPENAI_API_KEY: 'sk-withheld', AWS_SECRET_ACCESS_KEY: 'aws', KEEP_ME: 'yes' }, ['OPENAI_API_KEY', 'AWS_*']);
    const result = await runShellCommand('echo "[$OPENAI_API_KEY][$AWS_SECRET_ACCESS_KEY][$KEEP_ME]"', { ...opts, env });
    assert.equal(result.stdout, '[][][yes]\n');
  });

  it('caps the output and says how much was dropped', async () => {
    const result = await runShellCommand('head -c 5000 /dev/zero | tr "\\0" x', { ...opts, maxChars: 100 });
    assert.equal(result.stdout.startsWith('x'.repeat(100)), true);
    assert.match(result.stdout, /\[… 4900 more characters dropped\]$/);
  });

  it('kills the whole command on timeout', async () => {
    const started = Date.now();
    const result = await runShellCommand('sleep 30 & sleep 30; echo never', { ...opts, timeoutMs: 300 });
    assert.ok(Date.now() - started < 5000);
    assert.equal(result.exitCode, null);
    assert.match(result.stderr, /timed out after 300 ms/);
    assert.doesNotMatch(result.stdout, /never/);
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const running = runShellCommand('sleep 30', { ...opts, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const result = await running;
    assert.equal(result.exitCode, null);
    assert.match(result.stderr, /cancelled/);
  });
});
