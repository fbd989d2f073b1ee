import { z } from 'zod';
import { usernameProblem } from '../api/resources/users.js';
import { parseByteSize, parseDuration } from './units.js';

/**
 * The configuration file's shape, as written by users (input side). Defaults, unit conversion and path resolution
 * happen in `resolve.ts`; this schema only validates, so that the JSON Schema generated from it matches what users
 * write. Every object is strict: an unknown key is an error, so a typo never silently does nothing.
 */

const userId = z.number().int().positive().describe('A Lanying IM user ID (an integer).');

const duration = z
  .union([z.number().nonnegative(), z.string().refine((s) => parseDuration(s) !== undefined, 'not a duration such as "30s", "15m" or "1h"')])
  .describe('Milliseconds, or a duration such as "500ms", "30s", "15m", "1h".');

const byteSize = z
  .union([z.number().int().nonnegative(), z.string().refine((s) => parseByteSize(s) !== undefined, 'not a size such as "50MiB" or "10 MB"')])
  .describe('Bytes, or a size such as "512k", "50MiB", "10 MB".');

const httpUrl = z
  .string()
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'not an http(s) URL');

const metadata = z
  .record(z.string(), z.string())
  .describe('Flat string key/value pairs merged into every document\'s ext.ai.metadata.');

const sourceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, "_", "." and "-" (starting with a letter or digit)')
  .describe('Unique name of the source; used in state, metadata and `--source`.');

export const apiSchema = z.strictObject({
  endpoint: httpUrl.describe('The app\'s API endpoint, from the Lanying console ("Application info").'),
  appId: z.string().min(1).describe('The app ID (sent as the app_id header).'),
  accessToken: z
    .string()
    .min(1)
    .optional()
    .describe('The admin access token. Use "${LANYING_ACCESS_TOKEN}" rather than the token itself. Set this or accessTokenFile.'),
  accessTokenFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'A file holding the admin access token alone (a systemd credential: LoadCredential=). A relative path is looked up in $CREDENTIALS_DIRECTORY when systemd sets it, else beside the config file. Set this or accessToken.',
    ),
  timeoutMs: z.number().int().positive().optional().describe('Per-request timeout in milliseconds. Default 20000.'),
  maxRetries: z.number().int().min(0).max(10).optional().describe('Retries of a failed safe call. Default 3.'),
  allowInsecureHttp: z.boolean().optional().describe('Allow a plain http:// endpoint that is not loopback. Default false.'),
}).superRefine(
  (api, ctx) => {
    // The token comes from exactly one place. Checked even when other keys have problems, so that all are reported.
    const inline = api.accessToken !== undefined;
    const file = api.accessTokenFile !== undefined;
    if (inline && file) {
      ctx.addIssue({ code: 'custom', path: ['accessTokenFile'], message: 'api.accessToken (or LANYING_ACCESS_TOKEN) is set too: use one of them' });
    } else if (!inline && !file) {
      ctx.addIssue({ code: 'custom', path: ['accessToken'], message: 'required (string), or set api.accessTokenFile' });
    }
  },
  { when: (payload) => payload.value !== null && typeof payload.value === 'object' && !Array.isArray(payload.value) },
)
  // The same rule for editors, in the JSON Schema (a refinement is not part of it).
  .meta({ oneOf: [{ required: ['accessToken'] }, { required: ['accessTokenFile'] }] });

export const knowledgeBaseSchema = z.strictObject({
  chatbotUserId: userId.describe('The IM user ID that represents the AI chatbot.'),
  adminUserId: userId.describe('An IM user that administers exactly one knowledge base: the sender of every document.'),
  name: z.string().min(1).describe('The knowledge base name, as shown in the Lanying AI console.'),
});

const sourceCommon = {
  name: sourceName,
  metadata: metadata.optional(),
  chatbotUserId: userId.optional().describe('Send this source\'s documents to another chatbot user.'),
  enabled: z.boolean().optional().describe('Set to false to leave the source out of sync and watch. Default true.'),
};

export const folderSourceSchema = z.strictObject({
  type: z.literal('folder'),
  ...sourceCommon,
  path: z.string().min(1).describe('Folder to sync; relative paths are resolved from the config file\'s folder.'),
  include: z.array(z.string().min(1)).optional().describe('Glob patterns (relative to path) to include. Default: every supported type.'),
  exclude: z.array(z.string().min(1)).optional().describe('Glob patterns (relative to path) to leave out.'),
  followSymlinks: z.boolean().optional().describe('Follow symbolic links that stay inside the folder. Default false.'),
  maxFileSize: byteSize.optional().describe('Larger files are skipped. Default "50MiB", the chatbot\'s limit.'),
  linkBase: httpUrl.optional().describe('URL prefix: a document\'s metadata link becomes linkBase + its relative path.'),
  usePolling: z.boolean().optional().describe('watch: poll instead of using inotify (network mounts). Default false.'),
});

export const urlSourceSchema = z
  .strictObject({
    type: z.literal('urls'),
    ...sourceCommon,
    urls: z.array(httpUrl).optional().describe('URLs to sync.'),
    listFile: z.string().min(1).optional().describe('A file with one URL a line; "#" comments and blank lines are ignored.'),
    sitemap: httpUrl.optional().describe('A sitemap.xml URL whose <loc> entries are synced.'),
    refreshInterval: duration.optional().describe('watch: how often the URLs are checked again. Default "1h".'),
    fetchTimeoutMs: z.number().int().positive().optional().describe('Timeout of one fetch. Default 30000.'),
    maxRedirects: z.number().int().min(0).max(20).optional().describe('Redirects followed per URL. Default 5.'),
    maxBytes: byteSize.optional().describe('Larger responses are refused. Default "50MiB".'),
  })
  .refine((s) => Boolean(s.urls?.length || s.listFile || s.sitemap), {
    message: 'a urls source needs at least one of "urls", "listFile" or "sitemap"',
  });

export const sourceSchema = z.discriminatedUnion('type', [folderSourceSchema, urlSourceSchema]);

export const syncSchema = z.strictObject({
  stateDir: z.string().min(1).optional().describe('Where the state database lives. Default ".lanying-kb" beside the config file.'),
  concurrency: z.number().int().min(1).max(64).optional().describe('Documents uploaded at once. Default 4.'),
  requestsPerSecond: z.number().positive().optional().describe('Upper bound on API requests per second. Default: no bound.'),
  maxAttempts: z.number().int().min(1).max(20).optional().describe('Attempts per document per run before it is marked failed. Default 3.'),
});

export const daemonSchema = z.strictObject({
  debounceMs: z.number().int().min(0).optional().describe('Quiet time per path before a change is handled. Default 1000.'),
  reconcileInterval: duration.optional().describe('Full reconcile period. Default "1h".'),
  shutdownTimeoutMs: z.number().int().min(0).optional().describe('How long in-flight uploads may finish after SIGTERM. Default 30000.'),
  http: z
    .strictObject({
      host: z.string().min(1).optional().describe('Default "127.0.0.1".'),
      port: z.number().int().min(0).max(65535),
    })
    .optional()
    .describe('Ops HTTP server: /healthz, /readyz, /metrics, /status.'),
});

const pushAudience = z.union([
  z.literal('all'),
  z.strictObject({ tag: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ alias: z.array(z.string().min(1)).min(1) }),
  z.strictObject({ user_id: z.array(userId).min(1) }),
  z.strictObject({ push_token: z.array(z.string().min(1)).min(1) }),
]);

const provisionUser = z.strictObject({
  username: z.string().min(1).describe('Letters, digits and "_"; not all digits; not starting with "maxim" or "mta".'),
  password: z.string().min(1).optional().describe('Needed to register the user; use "${ENV_VAR}".'),
  userId: userId.optional().describe('The ID of a user that already exists (not registered by lanying-kb).'),
  nickname: z.string().optional().describe('Set as the user\'s nick_name when it differs.'),
  description: z.string().optional().describe('Set as the user\'s profile description when it differs.'),
  friends: z.array(z.string().min(1)).optional().describe('Usernames (from provision.users) to add as friends.'),
});

const provisionGroup = z.strictObject({
  name: z.string().min(1).describe('Group name; lanying-kb creates the group once and records its ID in the state database.'),
  owner: z.string().min(1).describe('Username (from provision.users) of the owner.'),
  description: z.string().optional(),
  members: z.array(z.string().min(1)).optional().describe('Usernames (from provision.users) to invite.'),
});

export const provisionSchema = z
  .strictObject({
    users: z.array(provisionUser).optional().describe('Users to register (when missing), with their friends.'),
    groups: z.array(provisionGroup).optional().describe('Groups to create (once) and the members to invite.'),
  })
  .superRefine((provision, ctx) => {
    // Cross-references: every username a friend list, owner or member list names must be declared once in users.
    const declared = new Map<string, number>();
    (provision.users ?? []).forEach((user, i) => {
      const problem = usernameProblem(user.username);
      if (problem) ctx.addIssue({ code: 'custom', path: ['users', i, 'username'], message: `"${user.username}" ${problem}` });
      const earlier = declared.get(user.username);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['users', i, 'username'], message: `duplicate username "${user.username}" (also users[${earlier}])` });
      else declared.set(user.username, i);
    });
    const unknown = (name: string) => `"${name}" is not a username declared in provision.users`;
    (provision.users ?? []).forEach((user, i) => {
      (user.friends ?? []).forEach((friend, j) => {
        if (!declared.has(friend)) ctx.addIssue({ code: 'custom', path: ['users', i, 'friends', j], message: unknown(friend) });
        else if (friend === user.username) ctx.addIssue({ code: 'custom', path: ['users', i, 'friends', j], message: 'a user cannot be their own friend' });
      });
    });
    const groupNames = new Map<string, number>();
    (provision.groups ?? []).forEach((group, i) => {
      const earlier = groupNames.get(group.name);
      if (earlier !== undefined) ctx.addIssue({ code: 'custom', path: ['groups', i, 'name'], message: `duplicate group name "${group.name}" (also groups[${earlier}])` });
      else groupNames.set(group.name, i);
      if (!declared.has(group.owner)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'owner'], message: unknown(group.owner) });
      (group.members ?? []).forEach((member, j) => {
        if (!declared.has(member)) ctx.addIssue({ code: 'custom', path: ['groups', i, 'members', j], message: unknown(member) });
      });
    });
  });

const TEMPLATE_HELP =
  'Placeholders: {added} {updated} {failed} {removed} {moved} {skipped} {unchanged} {sent} {source} {kb} {duration} {run}; unknown ones are left as is.';

export const notifySchema = z
  .strictObject({
    push: z
      .strictObject({
        audience: pushAudience.describe('"all", or exactly one of tag, alias, user_id, push_token (lists over 500 are split).'),
        title: z.string().optional().describe(`Template, e.g. "Knowledge base updated". ${TEMPLATE_HELP}`),
        body: z.string().min(1).describe(`Template, e.g. "{added} added, {updated} updated, {failed} failed". ${TEMPLATE_HELP}`),
      })
      .optional()
      .describe('Send the summary as a push notification.'),
    message: z
      .strictObject({
        from: userId.describe('Sender user ID (the admin token sends on this user\'s behalf).'),
        users: z.array(userId).optional().describe('User IDs to message.'),
        groups: z.array(z.number().int().positive()).optional().describe('Group IDs to message (the sender must be a member).'),
        text: z.string().min(1).describe(`Template, e.g. "{source}: {added} added, {updated} updated". ${TEMPLATE_HELP}`),
      })
      .refine((m) => Boolean(m.users?.length || m.groups?.length), { message: 'name at least one of "users" or "groups"' })
      .optional()
      .describe('Send the summary as a chat message to users and/or groups.'),
  })
  .describe('After a sync or daemon reconcile that sent at least one document or had a failure, send a summary.');

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  api: apiSchema,
  knowledgeBase: knowledgeBaseSchema.optional().describe('Required by sync and watch.'),
  sources: z.array(sourceSchema).default([]).describe('Folders and URL lists to sync; each name must be unique.'),
  sync: syncSchema.optional(),
  daemon: daemonSchema.optional(),
  provision: provisionSchema.optional(),
  notify: notifySchema.optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type FolderSourceInput = z.output<typeof folderSourceSchema>;
export type UrlSourceInput = z.output<typeof urlSourceSchema>;
export type PushAudience = z.output<typeof pushAudience>;
