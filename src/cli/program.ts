import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { VERSION } from '../version.js';
import type { CliContext, GlobalOptions } from './context.js';
import { ADMIN_COMMANDS } from './admin-commands.js';
import { KB_COMMANDS } from './kb-commands.js';
import type { CommandAction, Register } from './command-types.js';
import { EXIT } from './exit-codes.js';
import { reportError } from './report-error.js';

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code. Every error ends here:
 * a user-caused one prints one clear line (more with --verbose), anything else its stack.
 */
export async function runCli(argv: string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  let exitCode: number = EXIT.OK;
  program.hook('postAction', (_this, action) => {
    exitCode = (action as Command & { __exitCode?: number }).__exitCode ?? EXIT.OK;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.OK;
      return EXIT.CONFIG;
    }
    return reportError(error, program.opts<GlobalOptions>(), ctx);
  }
}

function buildProgram(ctx: CliContext): Command {
  const program = new Command('lanying-kb')
    .description('Keep a Lanying AI chatbot\'s knowledge base in sync with folders and URL lists; administer a Lanying app.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'config file (default: searched upward from the current folder)')
    .option('--json', 'machine-readable JSON output on stdout')
    .option('-v, --verbose', 'more detail, including stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(`lanying-kb: ${s.replace(/^error: /, '')}`),
    });

  const lazy = <O>(load: () => Promise<CommandAction<O>>) =>
    async function (this: Command, ...received: unknown[]) {
      const command = received[received.length - 1] as Command;
      const options = command.opts<O & object>();
      const globals = command.optsWithGlobals<GlobalOptions>();
      const args = command.args;
      const action = await load();
      try {
        (command as Command & { __exitCode?: number }).__exitCode = await action(options, globals, ctx, args);
      } catch (error) {
        (command as Command & { __exitCode?: number }).__exitCode = reportError(error, globals, ctx);
      }
    };

  for (const register of [...COMMANDS, ...KB_COMMANDS, ...ADMIN_COMMANDS]) register(program, lazy);
  return program;
}

const COMMANDS: Register[] = [
  (program, lazy) =>
    program
      .command('sandbox')
      .description('run a local Lanying-compatible server (API, storage and chatbot ingestion) for tests and demos')
      .option('--host <host>', 'address to bind', '127.0.0.1')
      .option('--port <port>', 'port to bind (0 = any free port)', parsePort, 0)
      .option('--site-dir <dir>', 'serve this folder under /_sandbox/site/ (pages for URL sources)')
      .option('--app-id <id>', 'app ID to accept', 'sandbox-app')
      .option('--access-token <token>', 'admin token to accept (default: a random one, printed)')
      .option(
        '--fault <rule>',
        'a fault rule, repeatable: JSON, or key=value pairs such as "route=POST /message/send,status=503,times=2" or "chatbot=refuse,reason=service_expired" (see docs/vendor-contract.md)',
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      )
      .option('--other-kb <name...>', 'more knowledge bases the admins administer (messages are then refused until /bluevector mode auto sets a default)')
      .option('--storage-limit <bytes>', "the app's knowledge-base storage quota in bytes (a document beyond it fails with \"storage limit\")", parseByteCount)
      .action(lazy(async () => (await import('./commands/sandbox.js')).sandboxCommand)),
  (program, lazy) =>
    program
      .command('validate')
      .description('check the configuration; with --deep also the token and the knowledge-base users, against the API')
      .option('--deep', 'also call the API')
      .action(lazy(async () => (await import('./commands/validate.js')).validateCommand)),
  (program, lazy) =>
    program
      .command('sync')
      .description('send new and changed documents of every source to the chatbot\'s knowledge base, once')
      .option('-s, --source <name...>', 'only these sources')
      .option('-n, --dry-run', 'print the plan (new, changed, moved, unchanged, removed, skipped) and send nothing')
      .option('--checksum', 'hash every file, not only those whose size, time or inode changed')
      .option('--no-wait', 'do not wait for the chatbot to confirm what was sent (it is confirmed by a later run or the daemon)')
      .option('--prune', 'also delete from the knowledge base the documents that left their sources (within sync.maxDelete)')
      .action(lazy(async () => (await import('./commands/sync.js')).syncCommand)),
  (program, lazy) =>
    program
      .command('status')
      .description('what the state holds: documents per source and status, recent runs, failed documents')
      .option('--failed <n>', 'how many failed documents to list', parseCount, 20)
      .action(lazy(async () => (await import('./commands/status.js')).statusCommand)),
  (program, lazy) =>
    program
      .command('watch')
      .description('run as a daemon: sync once, then send changes as they happen (SIGHUP or `lanying-kb reload` reloads the config, SIGTERM stops)')
      .option('--log-format <format>', 'auto (readable on a terminal, JSON otherwise), json or pretty', 'auto')
      .option('--log-level <level>', 'trace, debug, info, warn or error (default: info; debug with --verbose)')
      .action(lazy(async () => (await import('./commands/watch.js')).watchCommand)),
  (program, lazy) =>
    program
      .command('reload')
      .description('ask the running watch daemon of this configuration to reload it, and wait for its answer (exit 2 when refused)')
      .action(lazy(async () => (await import('./commands/reload.js')).reloadCommand)),
];

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a count');
  return n;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('not a port number (0-65535)');
  return port;
}

function parseByteCount(value: string): number {
  const bytes = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(bytes)) throw new InvalidArgumentError('not a byte count (a non-negative integer)');
  return bytes;
}
