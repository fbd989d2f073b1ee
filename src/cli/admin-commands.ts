import { Option } from 'commander';
import { countOption, idListOption, idOption } from './commands/admin/parsers.js';
import type { Register } from './command-types.js';

/** `--password-stdin` / `--password-env` / `--password`, for commands that take a password. */
function passwordOptions(): Option[] {
  return [
    new Option('--password-stdin', 'read the password from the first line of standard input'),
    new Option('--password-env <var>', 'read the password from this environment variable'),
    new Option('--password <password>', 'the password itself (visible to other users in the process list: avoid)'),
  ];
}

/** The admin commands: user, roster, group, message, push, apply. Each action is imported when it runs. */
export const ADMIN_COMMANDS: Register[] = [
  (program, lazy) => {
    const user = program.command('user').description('register users and show profiles');
    const register = user
      .command('register')
      .description('register a user (give the password on stdin or in an environment variable; --password on the command line is visible to other users)')
      .argument('<username>', 'letters, digits and "_"; not all digits; not starting with "maxim" or "mta"');
    for (const option of passwordOptions()) register.addOption(option);
    register.action(lazy(async () => (await import('./commands/admin/user.js')).userRegisterCommand));
    user
      .command('batch-register')
      .description('register the users of a CSV file (header "username,password") or JSON array of {username, password}')
      .argument('<file>', 'the CSV or JSON file')
      .action(lazy(async () => (await import('./commands/admin/user.js')).userBatchRegisterCommand));
    user
      .command('profile')
      .description('show a user\'s profile')
      .requiredOption('--user <id>', 'the user ID', idOption)
      .action(lazy(async () => (await import('./commands/admin/user.js')).userProfileCommand));
  },
  (program, lazy) => {
    const roster = program.command('roster').description('friend lists');
    roster
      .command('add')
      .description('make users friends of a user')
      .requiredOption('--user <id>', 'the user who adds', idOption)
      .argument('<friendId...>', 'user IDs to add as friends')
      .action(lazy(async () => (await import('./commands/admin/roster.js')).rosterAddCommand));
    roster
      .command('list')
      .description('list a user\'s friends')
      .requiredOption('--user <id>', 'the user', idOption)
      .action(lazy(async () => (await import('./commands/admin/roster.js')).rosterListCommand));
  },
  (program, lazy) => {
    const group = program.command('group').description('create groups, invite members, list members, destroy groups');
    group
      .command('create')
      .description('create a group owned by a user')
      .requiredOption('--owner <id>', 'the owner\'s user ID', idOption)
      .requiredOption('--name <name>', 'the group name')
      .option('--description <text>', 'the group description')
      .action(lazy(async () => (await import('./commands/admin/group.js')).groupCreateCommand));
    group
      .command('invite')
      .description('invite users into a group (a result per user; exit 3 when some were refused)')
      .requiredOption('--owner <id>', 'the inviting member (usually the owner)', idOption)
      .requiredOption('--group <id>', 'the group ID', idOption)
      .argument('<userId...>', 'user IDs to invite')
      .action(lazy(async () => (await import('./commands/admin/group.js')).groupInviteCommand));
    group
      .command('members')
      .description('list a group\'s members')
      .requiredOption('--user <id>', 'a member to ask as', idOption)
      .requiredOption('--group <id>', 'the group ID', idOption)
      .option('--limit <n>', 'members per page (server default 1000)', countOption)
      .option('--cursor <cursor>', 'continue from the cursor a previous page printed')
      .option('--all', 'follow the cursor through every page')
      .action(lazy(async () => (await import('./commands/admin/group.js')).groupMembersCommand));
    group
      .command('destroy')
      .description('destroy a group (shows its name and member count and asks for "yes" on a terminal, unless --yes)')
      .requiredOption('--owner <id>', 'the owner\'s user ID', idOption)
      .requiredOption('--group <id>', 'the group ID', idOption)
      .option('-y, --yes', 'do not ask for confirmation')
      .action(lazy(async () => (await import('./commands/admin/group.js')).groupDestroyCommand));
  },
  (program, lazy) => {
    const message = program.command('message').description('send chat messages');
    message
      .command('send')
      .description('send a text or a file to users or to groups (as --from, or, for a text, as the app administrator)')
      .option('--user <id...>', 'receiving user IDs', idListOption)
      .option('--group <id...>', 'receiving group IDs', idListOption)
      .option('--text <text>', 'the message text; "-" reads it from standard input')
      .option('--file <path>', 'a file to send as a file message (uploaded once per receiver)')
      .option('--from <id>', 'the sender\'s user ID (required with --file; without it a text is sent by the app administrator)', idOption)
      .option('--ext <json>', 'the message ext, a JSON object')
      .action(lazy(async () => (await import('./commands/admin/message.js')).messageSendCommand));
  },
  (program, lazy) => {
    const push = program.command('push').description('push notifications');
    push
      .command('notify')
      .description('send a push notification to exactly one audience (lists over 500 are split into several calls; --all asks first)')
      .option('--all', 'every user')
      .option('--tag <tag...>', 'users with these tags')
      .option('--alias <alias...>', 'users with these aliases')
      .option('--user-id <id...>', 'these user IDs', idListOption)
      .option('--push-token <token...>', 'these push tokens')
      .addOption(new Option('--type <type>', 'notification type').choices(['text', 'image', 'cmd']).default('text'))
      .option('--title <title>', 'the title')
      .option('--body <body>', 'the text')
      .option('--attachment-url <url>', 'an image, audio or video URL; with --type image a .jpg, .jpeg or .png under 1 MB (checked before sending)')
      .option('--badge <badge>', 'the app badge: a number sets it, "+N" adds to it (sent as a string, as swagger defines it)')
      .option('--ext <json>', 'extra data, a JSON object')
      .option('-y, --yes', 'with --all: do not ask for confirmation (needed when there is no terminal to ask on)')
      .action(lazy(async () => (await import('./commands/admin/push.js')).pushNotifyCommand));
  },
  (program, lazy) =>
    program
      .command('apply')
      .description('register the users, friends and groups of the config\'s "provision" section that are missing')
      .option('-n, --dry-run', 'print what would be done and change nothing')
      .action(lazy(async () => (await import('./commands/admin/apply.js')).applyCommand)),
];
