// A small C library preloaded into kameng (LD_PRELOAD) to watch or break its system calls, built
// with the machine's cc at test time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function buildPreload(dir, name, source) {
  const src = join(dir, `${name}.c`);
  const lib = join(dir, `${name}.so`);
  writeFileSync(src, source);
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', lib, src, '-ldl'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return lib;
}

// The environment that preloads lib; a sanitizer build wants its runtime first among the
// preloaded libraries, and is told not to mind.
export function preloadEnv(lib, more = {}) {
  const asan = `${process.env.ASAN_OPTIONS ?? ''}:verify_asan_link_order=0`;
  return { ...process.env, ASAN_OPTIONS: asan, LD_PRELOAD: lib, ...more };
}
