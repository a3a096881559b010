import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { classifyContent, isSecretPath, skipByName } from '../../../src/core/indexing/fileClassifier';

describe('fileClassifier', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'baton-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Round-trips the bytes through a real file, as the indexer reads them. */
  function classifyFile(name: string, content: string | Buffer) {
    writeFileSync(join(dir, name), content);
    return classifyContent(name, readFileSync(join(dir, name)));
  }

  describe('isSecretPath', () => {
    const secrets = [
      '.env', 'app/.env', '.env.local', '.env.production', 'deploy/prod.env', 'server.pem', 'tls/server.key',
      'cert.p12', 'cert.pfx', 'release.keystore', 'android/debug.jks', 'home/.ssh/id_rsa', 'id_dsa', 'id_ecdsa',
      'id_ed25519', 'id_rsa_backup', '.npmrc', '.pypirc', '.netrc', '.pgpass', '.aws/credentials',
      'gcp/credentials.json', 'vault.kdbx', 'config/secrets.json', 'secrets.yml', 'secrets.yaml', 'secrets.toml',
      'service-account.json', 'service-account-prod.json', '.htpasswd', '.git-credentials', 'infra/terraform.tfstate',
      'infra/terraform.tfstate.backup', 'C:\\proj\\.ENV',
    ];
    const notSecrets = [
      '.env.example', '.env.sample', '.env.template', 'id_rsa.pub', 'id_ed25519.pub', 'src/env.ts',
      'environment.yml', 'keys.ts', 'secrets.md', 'docs/credentials.md', 'service-account.yaml', 'src/.envrc.md',
    ];
    for (const p of secrets) it(`flags ${p}`, () => assert.equal(isSecretPath(p), true));
    it('leaves look-alikes alone', () => {
      assert.deepEqual(notSecrets.filter(isSecretPath), []);
    });
  });

  describe('skipByName', () => {
    it('reports secrets first, with the rule that matched', () => {
      assert.deepEqual(skipByName('a/.env.local'), { reason: 'secret', detail: 'credentials-like name (.env.*)' });
      assert.equal(skipByName('certs/site.key')?.reason, 'secret');
    });

    it('skips known binary extensions', () => {
      for (const p of ['logo.png', 'a/b.JPG', 'dist.zip', 'mod.wasm', 'libx.so', 'manual.pdf', 'font.woff', 'font.woff2', 'model.onnx', 'App.class', '.DS_Store']) {
        assert.equal(skipByName(p)?.reason, 'binary', p);
      }
    });

    it('skips lockfiles and generated or minified names', () => {
      const generated = ['package-lock.json', 'web/yarn.lock', 'pnpm-lock.yaml', 'Cargo.lock', 'go.sum', 'poetry.lock', 'app.js.map', 'styles.css.map', 'api.pb.go', 'api_pb2.py', 'api_pb2_grpc.py'];
      for (const p of generated) assert.equal(skipByName(p)?.reason, 'generated', p);
      for (const p of ['jquery.min.js', 'x/bootstrap.min.css', 'lib-min.js', 'a.min.mjs']) assert.equal(skipByName(p)?.reason, 'minified', p);
      assert.match(skipByName('package-lock.json')!.detail, /lockfile/);
    });

    it('keeps ordinary source, docs and config', () => {
      for (const p of ['src/index.ts', 'README.md', 'package.json', 'go.mod', 'Cargo.toml', 'icon.svg', 'min.js', 'Makefile', 'app.mapper.ts', 'lock.ts']) {
        assert.equal(skipByName(p), null, p);
      }
    });
  });

  describe('classifyContent', () => {
    it('accepts ordinary UTF-8 source and returns its text', () => {
      const src = 'export const greet = (n: string) => `héllo ${n} 👋`;\n';
      assert.deepEqual(classifyFile('greet.ts', src), { ok: true, text: src });
    });

    it('strips a UTF-8 byte order mark', () => {
      const result = classifyFile('bom.py', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x = 1\n')]));
      assert.deepEqual(result, { ok: true, text: 'x = 1\n' });
    });

    it('calls a file with a NUL byte in its first 8 KiB binary', () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
      const result = classifyFile('image.dat', png);
      assert.deepEqual(result, { ok: false, reason: 'binary', detail: 'NUL byte at offset 8' });
      assert.equal(classifyFile('data.gz.txt', gzipSync(Buffer.from('hello '.repeat(100)))).ok, false);
    });

    it('does not look for NUL bytes past the first 8 KiB', () => {
      const withLateNul = Buffer.concat([Buffer.from('line\n'.repeat(2000)), Buffer.from([0])]); // NUL at 10,000
      assert.equal(classifyFile('late.txt', withLateNul).ok, true);
    });

    it('rejects invalid UTF-8 and says where', () => {
      const latin1 = Buffer.from('caf\xe9 au lait\n', 'latin1');
      assert.deepEqual(classifyFile('latin1.txt', latin1), { ok: false, reason: 'non-utf8', detail: 'not valid UTF-8 (first bad byte at offset 3)' });
      const truncated = Buffer.from([0x61, 0x62, 0xe2, 0x82]); // euro sign cut short
      assert.equal(classifyFile('cut.txt', truncated).ok, false);
      const surrogate = Buffer.from([0x61, 0xed, 0xa0, 0x80]);
      assert.match((classifyFile('sur.txt', surrogate) as { detail: string }).detail, /offset 1\)/);
    });

    it('calls UTF-16 text non-utf8 rather than binary', () => {
      const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hello\n', 'utf16le')]);
      assert.deepEqual(classifyFile('win.txt', utf16), { ok: false, reason: 'non-utf8', detail: 'UTF-16 text (byte order mark)' });
    });

    it('detects minified code by average line length', () => {
      const bundle = Array.from({ length: 8 }, (_, i) => `var a${i}=function(){return ${'x+'.repeat(600)}1};`).join('\n');
      const result = classifyFile('bundle.js', bundle);
      assert.equal(result.ok, false);
      assert.equal((result as { reason: string }).reason, 'minified');
      assert.match((result as { detail: string }).detail, /^average line length 1,2\d\d chars$/);
    });

    it('detects one very long line in a file with few lines', () => {
      const lines = ['/* header */', ...Array.from({ length: 30 }, () => 'short();'), `x=${'y'.repeat(6000)};`];
      // 31 short lines keep the average under the threshold; the single 6,003-char line does not.
      const result = classifyFile('vendor.js', lines.join('\n'));
      assert.deepEqual(result, { ok: false, reason: 'minified', detail: 'line 32 is 6,003 chars long' });
    });

    it('keeps normal code, short one-liners and long prose paragraphs', () => {
      const code = Array.from({ length: 200 }, (_, i) => `  const v${i} = compute(${i}, "value ${i}");`).join('\n');
      assert.equal(classifyFile('normal.ts', code).ok, true);
      assert.equal(classifyFile('tiny.json', `{"k":"${'v'.repeat(900)}"}`).ok, true);
      const prose = Array.from({ length: 4 }, () => 'Words flow on. '.repeat(500)).join('\n\n');
      assert.equal(classifyFile('essay.md', prose).ok, true);
    });

    it('detects generated-code markers in the header only', () => {
      const go = '// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: api.proto\n\npackage api\n';
      assert.deepEqual(classifyFile('api.go', go), { ok: false, reason: 'generated', detail: 'generated-code marker "DO NOT EDIT" on line 1' });
      const fb = `/**\n * Copyright\n *\n * ${'@'}generated SignedSource<<abc>>\n */\nexport {};\n`;
      assert.equal((classifyFile('schema.js', fb) as { reason: string }).reason, 'generated');
      const cs = '//------\n// <auto-generated>\n//   by a tool\n// </auto-generated>\nclass A {}\n';
      assert.equal((classifyFile('A.cs', cs) as { reason: string }).reason, 'generated');
      const late = `${'let x = 1;\n'.repeat(20)}// DO NOT EDIT below this line\n`;
      assert.equal(classifyFile('late.ts', late).ok, true, 'a marker far below the header does not count');
    });

    it('treats content holding a private key block as a secret', () => {
      const pem = ['config:', '  key: |', `    -----BEGIN ${'RSA PRIVATE'} KEY-----`, '    MIIEow...', `    -----END ${'RSA PRIVATE'} KEY-----`].join('\n');
      assert.deepEqual(classifyFile('deploy.yaml', pem), { ok: false, reason: 'secret', detail: 'contains a private key block' });
      const openssh = `-----BEGIN ${'OPENSSH PRIVATE'} KEY-----\nb3Blbn\n`;
      assert.equal((classifyFile('notes.txt', openssh) as { reason: string }).reason, 'secret');
      const publicCert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      assert.equal(classifyFile('ca.crt', publicCert).ok, true, 'a certificate is public');
    });
  });
});
