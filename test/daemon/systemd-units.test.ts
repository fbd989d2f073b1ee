import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../helpers/tmp-dir.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A unit file's keys per section (a key may repeat). */
function parseUnit(file: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of readFileSync(`${root}${file}`, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`${file}: unexpected line ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

function seconds(value: string): number {
  const m = /^(\d+)(ms|s|min)?$/.exec(value);
  if (!m) throw new Error(`not a time span: ${value}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n / 1000 : m[2] === 'min' ? n * 60 : n;
}

/** Settings every unit has: the notify protocol, restarts, and what a user manager can enforce. */
const COMMON: Record<string, string> = {
  Type: 'notify',
  NotifyAccess: 'all',
  WatchdogSec: '60s',
  Restart: 'on-failure',
  RestartPreventExitStatus: '2 4',
  KillSignal: 'SIGTERM',
  Environment: '"NODE_OPTIONS=--disable-sigusr1 --max-semi-space-size=8"',
  LimitNOFILE: '65536',
  LimitCORE: '0',
  UMask: '0077',
  NoNewPrivileges: 'yes',
  LockPersonality: 'yes',
  SystemCallArchitectures: 'native',
};

/** The system units' sandbox (issue 10's hardening list among them). */
const SYSTEM_HARDENING: Record<string, string> = {
  DynamicUser: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'read-only',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  PrivateUsers: 'yes',
  PrivateMounts: 'yes',
  PrivateIPC: 'yes',
  ProcSubset: 'pid',
  ProtectProc: 'invisible',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectKernelLogs: 'yes',
  ProtectControlGroups: 'yes',
  RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
  IPAddressDeny: 'localhost link-local',
  RestrictNamespaces: 'yes',
  CapabilityBoundingSet: '',
  StateDirectoryMode: '0700',
};

const UNITS = [
  { file: 'systemd/lanying-kb.service', config: '/etc/lanying-kb/config.json', credential: 'lanying-kb.token:/etc/lanying-kb/lanying-kb.token', state: 'lanying-kb', system: true },
  { file: 'systemd/lanying-kb@.service', config: '/etc/lanying-kb/%i.json', credential: '%i.token:/etc/lanying-kb/%i.token', state: 'lanying-kb/%i', system: true },
  { file: 'systemd/user/lanying-kb.service', config: '%E/lanying-kb/config.json', credential: undefined, state: 'lanying-kb', system: false },
];

describe.each(UNITS)('$file', ({ file, config, credential, state, system }) => {
  const unit = parseUnit(file);
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const all = (key: string) => service.get(key) ?? [];
  const one = (key: string) => {
    const values = all(key);
    expect(values.length, `${key} in [Service]`).toBeGreaterThan(0);
    return values[values.length - 1] as string;
  };

  it('runs `lanying-kb watch --config`, found where npm -g installs it; reloads through `lanying-kb reload`, which waits', () => {
    // A bare name: systemd (239+) looks in /usr/local/bin (npm's usual global prefix), then /usr/bin.
    expect(one('ExecStart')).toBe(`lanying-kb watch --config ${config}`);
    expect(one('ExecReload')).toBe(`lanying-kb reload --config ${config}`);
    expect(one('StateDirectory')).toBe(state);
  });

  it('has the notify, restart and sandbox settings', () => {
    for (const [key, value] of Object.entries(COMMON)) expect(one(key), key).toBe(value);
    expect(all('SystemCallFilter')).toEqual(['@system-service', '~@privileged @resources']);
    // Above the default daemon.shutdownTimeoutMs (30 s), so that uploads in flight can finish.
    expect(seconds(one('TimeoutStopSec'))).toBeGreaterThan(30);
    // V8's JIT needs W+X memory.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(service.has('PrivateNetwork')).toBe(false);
    if (system) {
      for (const [key, value] of Object.entries(SYSTEM_HARDENING)) expect(one(key), key).toBe(value);
      expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
      expect(unit.get('Unit')?.get('After')?.[0]).toContain('network-online.target');
    } else {
      expect(service.has('DynamicUser')).toBe(false);
      expect(unit.get('Install')?.get('WantedBy')).toEqual(['default.target']);
    }
  });

  it('takes the token as a credential, not from the environment', () => {
    if (credential) {
      expect(one('LoadCredential')).toBe(credential);
      // The environment file is optional (other variables only).
      expect(one('EnvironmentFile').startsWith('-')).toBe(true);
    } else {
      expect(service.has('LoadCredential')).toBe(false);
    }
    const text = readFileSync(`${root}${file}`, 'utf8');
    expect(text).toMatch(/"accessTokenFile": "[^"]+\.token"/);
    expect(text).not.toMatch(/LANYING_ACCESS_TOKEN=/);
  });

  it('sets node options this Node.js takes from NODE_OPTIONS (on Node.js 20, without --disable-sigusr1, as the unit says)', () => {
    const value = one('Environment').replace(/^"|"$/g, '').replace(/^NODE_OPTIONS=/, '');
    expect(value.split(' ')).toContain('--max-semi-space-size=8');
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const options = major > 22 || (major === 22 && minor >= 14) ? value : value.replace('--disable-sigusr1', '').trim();
    const run = spawnSync(process.execPath, ['-e', 'process.exit(0)'], { env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: options }, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('comments how to open loopback', () => {
    if (!system) return;
    expect(readFileSync(`${root}${file}`, 'utf8')).toMatch(/^# .*IPAddressAllow=localhost$/m);
  });
});

describe('the systemd files', () => {
  it('the template differs from the single unit only where the instance name goes', () => {
    const single = parseUnit('systemd/lanying-kb.service');
    const template = parseUnit('systemd/lanying-kb@.service');
    const flat = (unit: Map<string, Map<string, string[]>>) =>
      [...unit].flatMap(([section, keys]) => [...keys].map(([key, values]) => `${section}.${key}=${values.join('|')}`));
    const differing = flat(template).filter((line) => !flat(single).includes(line));
    expect(differing.every((line) => line.includes('%i'))).toBe(true);
    // Description, ExecStart, ExecReload, LoadCredential, EnvironmentFile, StateDirectory
    expect(differing).toHaveLength(6);
    expect(flat(single).filter((line) => !flat(template).some((t) => t.split('=')[0] === line.split('=')[0]))).toEqual([]);
  });

  it('.ci/check-systemd is executable and the package ships the units', () => {
    expect(statSync(`${root}.ci/check-systemd`).mode & 0o111).not.toBe(0);
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('systemd');
  });

  const analyze = spawnSync('systemd-analyze', ['security', '--help'], { encoding: 'utf8' });
  const offline = !analyze.error && analyze.stdout.includes('--offline');
  it.runIf(offline)('docs/systemd.md reports the exposure `systemd-analyze security` gives the shipped units', () => {
    const docs = readFileSync(`${root}docs/systemd.md`, 'utf8');
    const dir = tmpDir('lkb-units-');
    for (const [file, name] of [
      ['systemd/lanying-kb.service', 'lanying-kb.service'],
      ['systemd/lanying-kb@.service', 'lanying-kb@docs.service'],
    ] as const) {
      // As shipped, but with a command that exists here.
      writeFileSync(path.join(dir, name), readFileSync(`${root}${file}`, 'utf8').replace(/^(Exec\w+=)lanying-kb /gm, '$1/bin/true '));
      const run = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', `./${name}`], { cwd: dir, encoding: 'utf8' });
      const score = /Overall exposure level for [^:]*: (\d+\.\d+)/.exec(run.stdout)?.[1];
      expect(score, run.stdout + run.stderr).toBeDefined();
      expect(docs).toContain(`exposure ${score}`);
    }
  });
});
