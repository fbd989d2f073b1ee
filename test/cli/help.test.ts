import { describe, expect, it } from 'vitest';
import { EXAMPLES } from '../../src/cli/program.js';
import { runCliProcess } from '../helpers/cli-process.js';
import { runWith, tempDir } from '../helpers/cli.js';

/** The command names a help text lists under "Commands:". */
function commandsOf(help: string): string[] {
  const section = help.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1] as string).filter((name) => name !== 'help');
}

/** Every command path of the CLI (`sync`, `user register`, ...), read from the help texts. */
async function allCommands(cwd: string): Promise<string[]> {
  const paths: string[] = [];
  for (const name of commandsOf((await runWith(['--help'], { cwd })).stdout)) {
    paths.push(name);
    for (const sub of commandsOf((await runWith([name, '--help'], { cwd })).stdout)) paths.push(`${name} ${sub}`);
  }
  return paths;
}

describe('--help', () => {
  it('every command shows the global options and one example of its own', async () => {
    const cwd = tempDir();
    const commands = await allCommands(cwd);
    expect(commands).toEqual(expect.arrayContaining(['init', 'sync', 'why', 'status', 'watch', 'validate', 'sandbox', 'apply', 'user register', 'group destroy', 'push notify', 'message send']));
    for (const command of commands) {
      const help = await runWith([...command.split(' '), '--help'], { cwd });
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toMatch(/^Global Options:$/m);
      for (const option of ['--config <file>', '--json ', '--json-lines', '-q, --quiet', '-v, --verbose', '--stats <interval>']) expect(help.stdout, `${command}: ${option}`).toContain(option);
      expect(EXAMPLES[command], command).toBeDefined();
      expect(help.stdout, command).toContain(`\nExample:\n  $ ${EXAMPLES[command]}\n`);
      // The example is of this command.
      expect((EXAMPLES[command] as string).split('|').some((part) => part.trim().startsWith(`lanying-kb ${command.split(' ')[0]}`)), command).toBe(true);
    }
  });

  it('the root help lists the exit codes (the real process)', async () => {
    const help = await runCliProcess(['--help'], { cwd: tempDir() });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Exit codes:$/m);
    for (const code of ['0', '1', '2', '3', '4', '75', '130']) expect(help.stdout).toMatch(new RegExp(`^ {2}${code} +\\S`, 'm'));
    expect(help.stdout).toMatch(/143: stopped by SIGTERM/);
  });
});
