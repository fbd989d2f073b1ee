import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/exit-codes.js';
import { EXAMPLES } from '../../src/cli/program.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${root}README.md`, 'utf8');

/** The README's section under a `## ` heading. */
function section(title: string): string {
  return readme.split(/^## /m).find((s) => s.startsWith(`${title}\n`)) ?? '';
}

describe('the README (checked in CI, as the docs part of the issues)', () => {
  it('documents every exit code', () => {
    const table = section('Errors and exit codes');
    for (const code of new Set(Object.values(EXIT))) expect(table, `exit code ${code}`).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('names every command and the output options in its CLI section', () => {
    const cli = section('CLI');
    for (const command of Object.keys(EXAMPLES)) expect(cli, command).toContain(`lanying-kb ${command}`);
    for (const option of ['--json-lines', '--quiet', '--stats', '--no-progress', 'why', 'init']) expect(cli, option).toContain(option);
  });

  it('shows the status page screenshot, which exists and is a PNG', () => {
    expect(readme).toContain('![The status page](docs/status-page.png)');
    const png = readFileSync(`${root}docs/status-page.png`);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });
});
