import { z } from 'zod';
import { usernameProblem } from '../protocol/username.js';
import { SOURCE_SCHEMAS } from '../sources/registry.js';
import { boundedDuration, DAY, HOUR, httpUrlField, milliseconds, SECOND, userIdField } from '../util/schema-fields.js';

/**
 * The configuration file's shape, as written by users (input side). Defaults, unit conversion and path resolution
 * happen in `resolve.ts`; this schema only validates, so that the JSON Schema generated from it matches what users
 * write. Every object is strict: an unknown key is an error, so a typo never silently does nothing.
 */

const userId = userIdField;
const httpUrl = httpUrlField;
const duration = boundedDuration;

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
  timeoutMs: milliseconds(1, HOUR).optional().describe('Per-request timeout in milliseconds, at most 3600000 (1 hour). Default 20000.'),
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

/** A source of any type the registry knows, told apart by `type`. */
export const sourceSchema = z.discriminatedUnion('type', SOURCE_SCHEMAS);

export const syncSchema = z.strictObject({
  stateDir: z.string().min(1).optional().describe('Where the state database lives. Default ".lanying-kb" beside the config file.'),
  concurrency: z.number().int().min(1).max(64).optional().describe('Documents uploaded at once. Default 4.'),
  requestsPerSecond: z
    .number()
    .min(0.001, 'must be at least 0.001 (one request every 1000 s)')
    .optional()
    .describe('Upper bound on API requests per second, at least 0.001. Default: no bound.'),
  maxAttempts: z.number().int().min(1).max(20).optional().describe('Attempts per document per run when its file keeps changing during the upload (failed requests are retried by the client: api.maxRetries). Default 3.'),
  onChange: z
    .enum(['replace', 'append'])
    .optional()
    .describe('A changed document: "replace" sends the new version and, once the chatbot ingested it, deletes the old one; "append" leaves old versions in the knowledge base. Default "replace".'),
  onRemove: z
    .enum(['delete', 'keep'])
    .optional()
    .describe('A document that left its source: "delete" deletes it from the knowledge base (after deleteAfter, within maxDelete); "keep" leaves it. Default "delete".'),
  deleteAfter: duration({ min: 0, max: 365 * DAY })
    .optional()
    .describe('watch: how long a document that left its source stays in the knowledge base before it is deleted (a file back in time is not sent again), from 0 to 365d. One-shot sync deletes only with --prune, at once. Default "1h".'),
  maxDelete: z
    .strictObject({
      count: z.number().int().min(0).optional().describe('Most documents deleted in one run. Default 1000.'),
      percent: z
        .number()
        .min(0)
        .max(100)
        .optional()
        .describe('Most documents deleted in one run, as a share of the documents in the knowledge base; applies to runs that would delete more than 10. Default 50.'),
    })
    .optional()
    .describe('Over either bound, a run deletes nothing, warns, and exits 3 (like rclone --max-delete).'),
  confirmTimeout: duration({ min: SECOND, max: 7 * DAY })
    .optional()
    .describe('How long to wait for the chatbot to confirm a document before it is recorded as unconfirmed, from 1s to 7d. Default "10m".'),
  confirmPollInterval: duration({ min: 10, max: HOUR }).optional().describe('How often the conversation with the chatbot is read while confirmations are awaited. Default "2s".'),
  commandTimeout: duration({ min: 100, max: HOUR })
    .optional()
    .describe('How long to wait for the chatbot to answer a /bluevector command; a chatbot that never answers one is taken to run no commands (then nothing is replaced or deleted). Default "30s".'),
  maxIngestAttempts: z.number().int().min(1).max(20).optional().describe('Failed ingestions of one content before it is quarantined until it changes. Default 3.'),
  ingestRetryDelay: duration({ min: 0, max: 30 * DAY }).optional().describe('Wait before a document the chatbot failed to ingest is sent again, doubling with each failure. Default "5m".'),
  maxSendsPerRun: z.number().int().min(1).optional().describe('Most documents one run sends (like rclone --max-transfer); the rest wait for the next run. Default: no bound.'),
});

export const daemonSchema = z.strictObject({
  debounceMs: milliseconds(0, HOUR).optional().describe('Quiet time per path before a change is handled, in milliseconds (at most 3600000). Default 1000.'),
  reconcileInterval: duration({ min: 100, max: 365 * DAY, off: true }).optional().describe('Full reconcile period, from 100ms to 365d; 0 turns it off. Default "1h".'),
  shutdownTimeoutMs: milliseconds(0, HOUR).optional().describe('How long in-flight uploads may finish after SIGTERM, in milliseconds (at most 3600000). Default 30000.'),
  http: z
    .strictObject({
      host: z.string().min(1).optional().describe('Address to bind. Default "127.0.0.1"; another than loopback is logged as a warning.'),
      port: z.number().int().min(0).max(65535),
      token: z
        .string()
        .min(16, 'must be at least 16 characters; use "${LANYING_KB_OPS_TOKEN}" with a long random value')
        .optional()
        .describe('A bearer token that /status and /metrics then require (Authorization: Bearer ...). Use "${ENV_VAR}". Never logged.'),
      allowedHosts: z
        .array(z.string().min(1))
        .optional()
        .describe('Host names (besides loopback names, IP addresses and "host") that requests may name in their Host header; others get 403 (against DNS rebinding).'),
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
  sources: z.array(sourceSchema).default([]).describe('The sources to sync (folders, URL lists, ...); each name must be unique.'),
  sync: syncSchema.optional(),
  daemon: daemonSchema.optional(),
  provision: provisionSchema.optional(),
  notify: notifySchema.optional(),
});

export type ParsedConfig = z.output<typeof configSchema>;
export type PushAudience = z.output<typeof pushAudience>;
