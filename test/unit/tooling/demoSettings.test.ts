// `npm run demo` reuses one profile: what the user chose there (Configure Model's settings) must
// survive the next start, comments included; only the settings the profile lacks are added.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'jsonc-parser';
import { DEFAULT_SETTINGS, writeSettings } from '../../helpers/codeServer';

describe('demo profile settings', () => {
  let profile: string;
  const settingsFile = () => join(profile, 'user-data', 'User', 'settings.json');
  beforeEach(() => { profile = mkdtempSync(join(tmpdir(), 'baton-demo-settings-')); });
  afterEach(() => rmSync(profile, { recursive: true, force: true }));

  it('keeps the user\'s values and comments and adds only the missing defaults', () => {
    mkdirSync(join(profile, 'user-data', 'User'), { recursive: true });
    const users = '{\n  // my local model\n  "baton.model.baseUrl": "http://127.0.0.1:11434/v1",\n  "baton.model.chat": "qwen2.5-coder",\n  "git.enabled": false,\n}\n';
    writeFileSync(settingsFile(), users);
    writeSettings(profile, { 'git.enabled': true }, true);
    const text = readFileSync(settingsFile(), 'utf8');
    assert.match(text, /\/\/ my local model/);
    const merged = parse(text, [], { allowTrailingComma: true }) as Record<string, unknown>;
    assert.equal(merged['baton.model.baseUrl'], 'http://127.0.0.1:11434/v1');
    assert.equal(merged['baton.model.chat'], 'qwen2.5-coder');
    assert.equal(merged['git.enabled'], false, 'the user\'s choice wins over the demo\'s');
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) if (key !== 'git.enabled') assert.deepEqual(merged[key], value, key);
  });

  it('a second start changes nothing', () => {
    writeSettings(profile, { 'git.enabled': true }, true);
    const first = readFileSync(settingsFile(), 'utf8');
    writeSettings(profile, { 'git.enabled': true }, true);
    assert.equal(readFileSync(settingsFile(), 'utf8'), first);
  });

  it('refuses a settings file that is not a JSON object and leaves it as it was', () => {
    mkdirSync(join(profile, 'user-data', 'User'), { recursive: true });
    writeFileSync(settingsFile(), '{ "a": ');
    assert.throws(() => writeSettings(profile, {}, true), /is not a JSON object/);
    assert.equal(readFileSync(settingsFile(), 'utf8'), '{ "a": ');
  });

  it('without keepUserSettings (the tests\' fresh profiles) writes the file afresh', () => {
    mkdirSync(join(profile, 'user-data', 'User'), { recursive: true });
    writeFileSync(settingsFile(), '{"baton.model.chat": "x"}');
    writeSettings(profile, { 'git.enabled': true });
    const merged = JSON.parse(readFileSync(settingsFile(), 'utf8')) as Record<string, unknown>;
    assert.equal(merged['baton.model.chat'], undefined);
    assert.equal(merged['git.enabled'], true);
  });
});
