import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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

const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes',
  ProtectSystem: 'strict',
  ProtectHome: 'read-only',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  ProtectKernelTunables: 'yes',
  ProtectKernelModules: 'yes',
  ProtectKernelLogs: 'yes',
  ProtectControlGroups: 'yes',
  RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
  RestrictNamespaces: 'yes',
  LockPersonality: 'yes',
  SystemCallArchitectures: 'native',
  CapabilityBoundingSet: '',
  UMask: '0077',
  DynamicUser: 'yes',
  Restart: 'on-failure',
  KillSignal: 'SIGTERM',
  ExecReload: '/bin/kill -HUP $MAINPID',
  Type: 'exec',
};

describe.each([
  { file: 'systemd/lanying-kb.service', config: '/etc/lanying-kb/config.json', env: '/etc/lanying-kb/lanying-kb.env', state: 'lanying-kb' },
  { file: 'systemd/lanying-kb@.service', config: '/etc/lanying-kb/%i.json', env: '/etc/lanying-kb/%i.env', state: 'lanying-kb/%i' },
])('$file', ({ file, config, env, state }) => {
  const unit = parseUnit(file);
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const one = (key: string) => {
    const values = service.get(key);
    expect(values, `${key} in [Service]`).toBeDefined();
    return (values as string[])[(values as string[]).length - 1] as string;
  };

  it('runs `lanying-kb watch --config` with its configuration, the token from a root-only environment file', () => {
    expect(one('ExecStart')).toBe(`/usr/bin/lanying-kb watch --config ${config}`);
    expect(one('EnvironmentFile')).toBe(env);
    expect(one('StateDirectory')).toBe(state);
    const text = readFileSync(`${root}${file}`, 'utf8');
    // The comment that tells to point sync.stateDir at the state directory.
    expect(text).toMatch(/"sync": \{ "stateDir": "\/var\/lib\/lanying-kb/);
  });

  it('has the restart, stop and hardening settings', () => {
    for (const [key, value] of Object.entries(HARDENING)) expect(one(key), key).toBe(value);
    // Above the default daemon.shutdownTimeoutMs (30 s), so that uploads in flight can finish.
    expect(seconds(one('TimeoutStopSec'))).toBeGreaterThan(30);
    // V8's JIT needs W+X memory.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(service.has('PrivateNetwork')).toBe(false);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
    expect(unit.get('Unit')?.get('After')?.[0]).toContain('network-online.target');
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
    expect(differing).toHaveLength(4); // Description, ExecStart, EnvironmentFile, StateDirectory
  });

  it('.ci/check-systemd is executable and the package ships the units', () => {
    expect(statSync(`${root}.ci/check-systemd`).mode & 0o111).not.toBe(0);
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('systemd');
  });
});
