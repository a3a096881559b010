// Fetches pinned npm packages as tarballs (`npm pack`, cached) and unpacks them once.
// Used by the benchmark builder and the training miner; no install scripts ever run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** npm's tarball name for name@version: '@scope/pkg' → 'scope-pkg-1.2.3.tgz'. */
export function tarballName(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace(/\//g, '-')}-${version}.tgz`;
}

/** Returns the folder holding the unpacked package (its `package/` contents). */
export function fetchPackage(name: string, version: string, cacheDir: string): string {
  mkdirSync(cacheDir, { recursive: true });
  const tgz = join(cacheDir, tarballName(name, version));
  if (!existsSync(tgz)) {
    execFileSync('npm', ['pack', `${name}@${version}`, '--silent', '--pack-destination', cacheDir],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
    if (!existsSync(tgz)) throw new Error(`npm pack did not produce ${tgz}`);
  }
  const dir = join(cacheDir, 'unpacked', tarballName(name, version).replace(/\.tgz$/, ''));
  if (!existsSync(join(dir, '.done'))) {
    const tmp = dir + '.tmp';
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync('tar', ['xzf', tgz, '-C', tmp, '--no-same-owner', '--no-same-permissions'], { stdio: 'ignore' });
    // Tarballs normally hold `package/`, a few use another top folder.
    const top = readdirSync(tmp);
    const root = top.length === 1 && statSync(join(tmp, top[0])).isDirectory() ? join(tmp, top[0]) : tmp;
    rmSync(dir, { recursive: true, force: true });
    renameSync(root, dir);
    rmSync(tmp, { recursive: true, force: true });
    execFileSync('touch', [join(dir, '.done')]);
  }
  return dir;
}

/** Every file under dir, relative with '/' separators, sorted (deterministic order). */
export function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    let st;
    try { st = statSync(join(dir, r)); } catch { continue; }
    if (st.isDirectory()) { if (name !== 'node_modules') out.push(...listFiles(dir, r)); }
    else if (st.isFile()) out.push(r);
  }
  return out;
}

export function readLicense(dir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (typeof pkg.license === 'string') return pkg.license;
    if (pkg.license && typeof pkg.license.type === 'string') return pkg.license.type;
    if (Array.isArray(pkg.licenses)) return pkg.licenses.map((l: { type?: string }) => l.type ?? '?').join(' OR ');
  } catch { /* no package.json */ }
  return 'UNKNOWN';
}
