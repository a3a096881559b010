// The language server's inspector options: off unless a port is configured, 6009 under a debugger.
import assert from 'node:assert/strict';
import { configuredInspectPort, DEFAULT_INSPECT_PORT, serverExecArgv } from '../../../src/extension/lsp/inspect';

describe('server inspector', () => {
  it('takes the setting first, then BATON_SERVER_INSPECT, and ignores what is not a port', () => {
    assert.equal(configuredInspectPort(9230, { BATON_SERVER_INSPECT: '9231' }), 9230);
    assert.equal(configuredInspectPort(0, { BATON_SERVER_INSPECT: '9231' }), 9231);
    assert.equal(configuredInspectPort(undefined, {}), undefined);
    for (const bad of ['abc', '-1', '70000', '1.5']) assert.equal(configuredInspectPort(0, { BATON_SERVER_INSPECT: bad }), undefined, bad);
  });

  it('opens the inspector only under a debugger unless a port is configured', () => {
    assert.deepEqual(serverExecArgv(undefined), { run: [], debug: ['--nolazy', `--inspect=${DEFAULT_INSPECT_PORT}`] });
    assert.deepEqual(serverExecArgv(9230), { run: ['--inspect=9230'], debug: ['--nolazy', '--inspect=9230'] });
  });
});
