#!/usr/bin/env node
'use strict';
// Thin launcher so `npx baton` works after `npm run build`.
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('baton: not built yet. Run `npm run build` first.');
  process.exit(2);
}
require(cli);
