import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../version.js';
import type { CliContext, GlobalOptions } from './context.js';
import { ADMIN_COMMANDS } from './admin-commands.js';
import { KB_COMMANDS } from './kb-commands.js';
import type { CommandAction, Register } from './command-types.js';
import { EXIT } from './exit-codes.js';
import { reportError } from './report-error.js';
import { writeResult } from './context.js';
import { checkGlobalOptions, DEFAULT_STATS_INTERVAL_MS } from './output-mode.js';
import { parseDuration } from '../util/units.js';

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code. Every error ends here:
 * a user-caused one prints one clear line (more with --verbose), anything else its stack.
 */
/** What the process running the CLI does at points of a command's life (`main.ts`; tests give none). */
export interface CliHooks {
  /** The command's modules are loaded; its work begins. */
  commandLoaded?: (() => void) | undefined;
}

export async function runCli(argv: string[], ctx: CliContext, hooks: CliHooks = {}): Promise<number> {
  const program = buildProgram(ctx, hooks);
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
      // Commander printed the message; a --json caller also gets the error object (the options did not parse, so
      // the arguments are looked at as they are).
      const json = argv.includes('--json') || argv.includes('--json-lines');
      if (json) writeResult(ctx, { jsonLines: argv.includes('--json-lines') }, { ...(argv.includes('--json-lines') ? { type: 'error' } : {}), ok: false, exitCode: EXIT.CONFIG, error: { name: 'UsageError', message: error.message.replace(/^error: /, '') } });
      return EXIT.CONFIG;
    }
    return reportError(error, normalizeGlobals(program.opts<GlobalOptions>()), ctx);
  }
}

/** `--json-lines` is a kind of `--json`: commands test `json` and write with `writeResult`. */
function normalizeGlobals(globals: GlobalOptions): GlobalOptions {
  return globals.jsonLines ? { ...globals, json: true } : globals;
}

function buildProgram(ctx: CliContext, hooks: CliHooks): Command {
  const program = new Command('lanying-kb')
    .description('Keep a Lanying AI chatbot\'s knowledge base in sync with folders and URL lists; administer a Lanying app.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'config file (default: searched upward from the current folder)')
    .option('--json', 'machine-readable output: one JSON document on stdout at the end')
    .option('--json-lines', 'machine-readable output as it happens: one JSON object per line on stdout (sync: an event per decision and send, then a summary)')
    .option('-q, --quiet', 'only errors and the summary')
    .option('-v, --verbose', 'more detail (sync: repeated skips, unchanged documents; --dry-run: what the rules left out), stack traces of errors')
    .addOption(
      new Option('--stats <interval>', 'when stderr is not a terminal: a progress line every INTERVAL, e.g. 30s or 5m; 0 for none').argParser(parseInterval).default(DEFAULT_STATS_INTERVAL_MS, '1m'),
    )
    .option('--no-progress', 'no progress line on a terminal')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', ROOT_HELP)
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
      const given = command.optsWithGlobals<GlobalOptions>();
      const globals = normalizeGlobals(given);
      const args = command.args;
      const action = await load();
      hooks.commandLoaded?.();
      try {
        checkGlobalOptions(given);
        (command as Command & { __exitCode?: number }).__exitCode = await action(options, globals, ctx, args);
      } catch (error) {
        (command as Command & { __exitCode?: number }).__exitCode = reportError(error, globals, ctx);
      }
    };

  for (const register of [...COMMANDS, ...KB_COMMANDS, ...ADMIN_COMMANDS]) register(program, lazy);
  addExamples(program);
  return program;
}

/** After the root's help: the exit codes (a scheduler acts on them). */
const ROOT_HELP = `
Exit codes:
  0    everything worked
  1    unexpected error (a bug; the stack trace is printed)
  2    configuration or usage error
  3    some items failed (documents, users, ...), or the API refused the operation
  4    authentication: the access token is missing, wrong or expired
  75   temporary failure, try again later: the API was unreachable or rate-limited (EX_TEMPFAIL)
  130  stopped by SIGINT (Ctrl-C); 143: stopped by SIGTERM

Example:
  $ lanying-kb init && lanying-kb validate --deep && lanying-kb sync --dry-run
`;

/** One example per command, shown at the end of its --help (keyed by the command's path). */
export const EXAMPLES: Readonly<Record<string, string>> = {
  init: 'lanying-kb init --endpoint https://s-1-3-s-api.maximtop.cn --app-id YOUR_APP_ID --folder ./docs',
  sandbox: 'lanying-kb sandbox --port 8080 --fault "route=POST /message/send,status=503,times=2"',
  validate: 'lanying-kb validate --deep',
  sync: 'lanying-kb sync --dry-run -v          # the plan, and what the rules left out',
  why: 'lanying-kb why docs/drafts/notes.md   # which rule leaves it out, if one does',
  status: 'lanying-kb status --json | jq .runs[0]',
  check: 'lanying-kb check --walk           # the state against every document of the knowledge base',
  prune: 'lanying-kb prune --dry-run        # what would be deleted from the knowledge base',
  documents: 'lanying-kb documents --status failed,refused,ingest-failed',
  resend: 'lanying-kb resend --source handbook --no-wait',
  forget: 'lanying-kb forget --source old-handbook --dry-run',
  watch: 'lanying-kb watch --log-format json',
  reload: 'lanying-kb reload   # after editing the configuration of a running watch daemon',
  state: 'lanying-kb state backup /var/backups/lanying-kb/state.db',
  'state backup': 'lanying-kb state backup ~/lanying-kb-state-$(date +%F).db',
  'state forget-root': 'lanying-kb state forget-root handbook   # after moving the source off its mount for good',
  user: 'lanying-kb user register alice --password-env ALICE_PASSWORD',
  'user register': 'printf "%s\\n" "$PASSWORD" | lanying-kb user register alice --password-stdin',
  'user batch-register': 'lanying-kb user batch-register users.csv',
  'user profile': 'lanying-kb user profile --user 123456',
  roster: 'lanying-kb roster list --user 123456',
  'roster add': 'lanying-kb roster add --user 123456 234567 345678',
  'roster list': 'lanying-kb roster list --user 123456 --json',
  group: 'lanying-kb group create --owner 123456 --name Support',
  'group create': 'lanying-kb group create --owner 123456 --name Support --description "Questions about the product"',
  'group invite': 'lanying-kb group invite --owner 123456 --group 777 234567 345678',
  'group members': 'lanying-kb group members --user 123456 --group 777 --all',
  'group destroy': 'lanying-kb group destroy --owner 123456 --group 777',
  message: 'lanying-kb message send --user 234567 --text "hello"',
  'message send': 'echo "release notes" | lanying-kb message send --group 777 --text -',
  push: 'lanying-kb push notify --user-id 234567 --title Hi --body Welcome',
  'push notify': 'lanying-kb push notify --all --title "New docs" --body "The handbook was updated" --yes',
  apply: 'lanying-kb apply --dry-run',
};

function addExamples(program: Command): void {
  const visit = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      const name = prefix ? `${prefix} ${sub.name()}` : sub.name();
      const example = EXAMPLES[name];
      if (example) sub.addHelpText('after', `\nExample:\n  $ ${example}\n`);
      visit(sub, name);
    }
  };
  visit(program, '');
}

function parseInterval(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('not an interval (e.g. 30s, 5m, 1h; 0 for none)');
  return ms;
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
      .command('init')
      .description('write a configuration file (with its $schema line) and an environment-file template; asks on a terminal, takes flags otherwise')
      .option('--endpoint <url>', "the app's API endpoint (the console's \"Application info\")")
      .option('--app-id <id>', 'the app ID')
      .option('--chatbot-user-id <id>', 'the user ID of the AI chatbot', parsePositiveId)
      .option('--admin-user-id <id>', 'a user who administers exactly one knowledge base: the sender of every document', parsePositiveId)
      .option('--kb-name <name>', 'the knowledge base name, as the console shows it')
      .option('--folder <dir...>', 'folders to sync (a folder source each)')
      .option('--url-list <file>', 'a file of URLs to sync, one per line (a URL source)')
      .option('-o, --output <file>', 'the configuration file to write', 'lanying-kb.config.json')
      .option('--env-file <file>', 'the environment file to write (the access token goes there)', 'lanying-kb.env')
      .option('-f, --force', 'overwrite files that exist')
      .action(lazy(async () => (await import('./commands/init.js')).initCommand)),
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
      .command('why')
      .description('explain why paths are, or are not, documents of a source: the include, exclude, .kbignore or hidden-name rule that leaves them out, or why a document is skipped')
      .argument('<path...>', 'files or folders (relative to the current folder)')
      .action(lazy(async () => (await import('./commands/why.js')).whyCommand)),
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
  (program, lazy) => {
    const state = program.command('state').description('look after the state database (sync.stateDir)');
    state
      .command('backup')
      .description(
        'write a consistent copy of the state database to FILE with SQLite\'s online backup; safe while a daemon or a sync runs (restore: stop lanying-kb, copy FILE over state.db, remove state.db-wal and state.db-shm)',
      )
      .argument('<file>', 'where the copy goes (refused if it exists, unless --force)')
      .option('-f, --force', 'replace FILE if it exists')
      .action(lazy(async () => (await import('./commands/state.js')).stateBackupCommand));
    state
      .command('forget-root')
      .description(
        "forget what was recorded of a folder source's root (its device, whether it was a mount point), so that the next run takes the folder as it is now (after moving a source off a mount for good)",
      )
      .argument('<source>', 'the source name')
      .action(lazy(async () => (await import('./commands/state.js')).stateForgetRootCommand));
  },
];

function parsePositiveId(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('not an ID (a positive integer)');
  return n;
}

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
