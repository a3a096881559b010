// Loaded by mocha before any test (.mocharc.json "require"): the user's Baton folder (user config,
// trusted-workspace records) points at a fresh temp folder, so tests never read or write the real
// ~/.config/baton, and every CLI or server process they start inherits the same folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'baton-user-'));
process.env.BATON_CONFIG_DIR = dir;
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
