import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { NodeHost } from '../../../src/core/host/nodeHost';

/** A stream that claims to be a terminal, fed by the test. */
function fakeTty(): PassThrough & { isTTY: boolean } {
  return Object.assign(new PassThrough(), { isTTY: true });
}

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (d) => (text += d));
  return () => text;
}

const posix = process.platform !== 'win32';

/** Whether a process still runs; a killed zombie nobody reaped (PID 1 in some containers) does not. */
function isRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self')) return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('NodeHost', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'baton-host-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads files by workspace-relative or absolute path and has no diagnostics', async () => {
    writeFileSync(join(root, 'a.txt'), 'hello\n');
    const host = new NodeHost({ root });
    assert.equal(await host.readFile('a.txt'), 'hello\n');
    assert.equal(await host.readFile(join(root, 'a.txt')), 'hello\n');
    assert.deepEqual(await host.getDiagnostics(), []);
  });

  describe('approval', () => {
    const request = { kind: 'command' as const, title: 'Run ls', detail: '$ ls' };

    it('refuses without a terminal, saying how to allow it', async () => {
      const output = new PassThrough();
      const said = collect(output);
      const host = new NodeHost({ root, input: new PassThrough(), output });
      assert.equal(await host.requestApproval(request), false);
      assert.match(said(), /not approved \(no terminal to ask; pass --yes to allow\): Run ls/);
    });

    it('approves everything with autoApprove (--yes), showing what it approved', async () => {
      const output = new PassThrough();
      const said = collect(output);
      const host = new NodeHost({ root, input: new PassThrough(), output, autoApprove: true });
      assert.equal(await host.requestApproval(request), true);
      assert.match(said(), /approved by --yes: Run ls\n\$ ls/);
    });

    it('asks y/N on a terminal: only yes approves, end of input refuses', async () => {
      for (const [answer, expected] of [['y\n', true], ['YES\n', true], ['n\n', false], ['\n', false], ['sure\n', false], [null, false]] as const) {
        const input = fakeTty();
        const output = new PassThrough();
        const said = collect(output);
        const host = new NodeHost({ root, input, output });
        const pending = host.requestApproval({ kind: 'edit', title: 'Edit a.ts', detail: '--- a/a.ts\n+++ b/a.ts\n' });
        if (answer === null) input.end();
        else input.write(answer);
        assert.equal(await pending, expected, JSON.stringify(answer));
        assert.match(said(), /Edit a\.ts\n--- a\/a\.ts\n\+\+\+ b\/a\.ts\nApprove\? \[y\/N\] /);
      }
    });

    it('asks one question at a time', async () => {
      const input = fakeTty();
      const output = new PassThrough();
      const said = collect(output);
      const host = new NodeHost({ root, input, output });
      const first = host.requestApproval({ kind: 'command', title: 'First', detail: '$ one' });
      const second = host.requestApproval({ kind: 'command', title: 'Second', detail: '$ two' });
      await new Promise((r) => setImmediate(r));
      assert.ok(!said().includes('Second'));
      input.write('y\n');
      assert.equal(await first, true);
      await new Promise((r) => setImmediate(r));
      input.write('n\n');
      assert.equal(await second, false);
      assert.ok(said().indexOf('First') < said().indexOf('Second'));
    });
  });

  describe('applyEdit', () => {
    it('writes atomically, creates folders, keeps the file mode, refuses paths outside the root', async () => {
      const host = new NodeHost({ root });
      writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho old\n');
      if (posix) chmodSync(join(root, 'run.sh'), 0o755);
      await host.applyEdit({ path: 'run.sh', newText: '#!/bin/sh\necho new\n', description: 'x' });
      assert.equal(readFileSync(join(root, 'run.sh'), 'utf8'), '#!/bin/sh\necho new\n');
      if (posix) assert.equal(statSync(join(root, 'run.sh')).mode & 0o777, 0o755);
      await host.applyEdit({ path: 'deep/new/file.ts', newText: 'x', description: 'x' });
      assert.equal(readFileSync(join(root, 'deep/new/file.ts'), 'utf8'), 'x');
      assert.deepEqual(readdirSync(root).filter((n) => n.endsWith('.tmp')), []);
      await assert.rejects(host.applyEdit({ path: '../escape.txt', newText: 'x', description: 'x' }), /outside the workspace/);
      assert.ok(!existsSync(join(root, '..', 'escape.txt')));
    });
  });

  describe('runCommand', () => {
    it('runs a shell command in the root or a subfolder and captures output and exit code', async () => {
      const host = new NodeHost({ root });
      const r = await host.runCommand('echo hi && echo oops >&2 && exit 4', {});
      assert.deepEqual(r, { exitCode: 4, stdout: 'hi\n', stderr: 'oops\n' });
      writeFileSync(join(root, 'marker.txt'), '');
      assert.match((await host.runCommand(posix ? 'ls' : 'dir', {})).stdout, /marker\.txt/);
      mkdirSync(join(root, 'sub'));
      writeFileSync(join(root, 'sub', 'inner.txt'), '');
      assert.match((await host.runCommand(posix ? 'ls' : 'dir', { cwd: 'sub' })).stdout, /inner\.txt/);
    });

    it('stops a command at its time limit, children included', async function () {
      if (!posix) this.skip();
      const host = new NodeHost({ root });
      const r = await host.runCommand('sleep 30 & echo $! > bg.pid; sleep 30; echo never', { timeoutMs: 300 });
      assert.equal(r.exitCode, null);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /\[baton: the command was stopped: time limit of 300 ms reached\]/);
      const pid = Number(readFileSync(join(root, 'bg.pid'), 'utf8'));
      // The background child was in the command's process group, so it is gone too.
      await new Promise((res) => setTimeout(res, 100));
      assert.ok(!isRunning(pid), `background child ${pid} still runs`);
    });

    it('stops on abort, and refuses to start when already aborted', async function () {
      if (!posix) this.skip();
      const host = new NodeHost({ root });
      const ac = new AbortController();
      const pending = host.runCommand('sleep 30', { signal: ac.signal });
      setTimeout(() => ac.abort(), 100);
      const r = await pending;
      assert.equal(r.exitCode, null);
      assert.match(r.stderr, /stopped: cancelled/);
      await assert.rejects(host.runCommand('touch started', { signal: ac.signal }));
      assert.ok(!existsSync(join(root, 'started')));
    });

    it('keeps at most maxOutputBytes of output and says how much was cut', async () => {
      const host = new NodeHost({ root, maxOutputBytes: 1000 });
      const r = await host.runCommand(`node -e "process.stdout.write('x'.repeat(5000))"`, {});
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout, 'x'.repeat(1000) + '\n[baton: output truncated, 4000 more bytes not kept]');
    });
  });
});
