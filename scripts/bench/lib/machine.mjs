/** What machine and build a benchmark ran on. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

function tryRun(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function cpuModel() {
  const fromProc = (() => {
    try {
      return /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    } catch {
      return undefined;
    }
  })();
  return (fromProc ?? os.cpus()[0]?.model ?? 'unknown').trim();
}

/** @param {string} repoRoot @param {string} tmpRoot the folder the generated trees live in */
export function describeMachine(repoRoot, tmpRoot) {
  const fsType = tryRun('df', ['--output=fstype', tmpRoot])?.split('\n').pop()?.trim();
  const commit = tryRun('git', ['rev-parse', '--short', 'HEAD'], repoRoot);
  const dirty = tryRun('git', ['status', '--porcelain', '--untracked-files=no'], repoRoot);
  return {
    date: new Date().toISOString(),
    cpuModel: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    ramBytes: os.totalmem(),
    ramGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    tmpDir: tmpRoot,
    tmpFilesystem: fsType,
    commit: commit ? `${commit}${dirty ? ' (with uncommitted changes)' : ''}` : undefined,
    tools: {
      gnuTime: fs.existsSync('/usr/bin/time'),
      jq: Boolean(tryRun('sh', ['-c', 'command -v jq'])),
      curl: Boolean(tryRun('sh', ['-c', 'command -v curl'])),
      sha256sum: tryRun('sha256sum', ['--version'])?.split('\n')[0],
      find: tryRun('find', ['--version'])?.split('\n')[0],
      curlVersion: tryRun('curl', ['--version'])?.split('\n')[0]?.split(' ').slice(0, 2).join(' '),
    },
  };
}
