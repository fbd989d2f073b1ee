import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run demo (the newcomer\'s first command, after its build)', () => {
  it('syncs, syncs again sending nothing, and shows the knowledge base following an edit and a removal', async () => {
    const child = spawn(process.execPath, ['scripts/demo.mjs'], { cwd: root, env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(stdout).toContain('Demo finished: 8 documents in the knowledge base; the second sync sent nothing; after the edit and the removal the knowledge base follows the sources.');
    expect(stdout).toMatch(/Knowledge base: 1 ingested, 2 deleted\./);
    expect(stdout).toContain('The knowledge base holds what the state records.');
    expect(code).toBe(0);
  });
});
