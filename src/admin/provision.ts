import type { LanyingClient } from '../api/client.js';
import { ApiError, AuthError } from '../api/errors.js';
import type { ResolvedConfig, ResolvedProvisionGroup, ResolvedProvisionUser } from '../config/resolve.js';
import { ConfigError } from '../errors.js';
import { openRuntime } from '../runtime/open-runtime.js';
import type { ProvisionedRecords } from '../state/provisioned.js';

/** What one step of `apply` does. */
export type ProvisionActionKind = 'register-user' | 'update-profile' | 'add-friend' | 'create-group' | 'invite-members';

/** One step of `apply`: done, failed, or (in a dry run) only planned. */
export interface ProvisionAction {
  kind: ProvisionActionKind;
  /** One line for people: `register user alice`, `add friend bob -> carol`, `create group Team`, `invite 3 users to Team`. */
  text: string;
  /** The username (register, profile, friend: the user who adds) or the group name. */
  subject: string;
  /** False in a dry run: the step was only planned. */
  done: boolean;
  ok: boolean;
  /** Why it failed (the API error's one-line message). */
  error?: string;
  /** The user ID registered or the group ID created. */
  remoteId?: number;
  /** The usernames concerned: the friend added, or the users invited. */
  users?: string[];
  /** For an invite: the users the server refused, with its reason. */
  refused?: { username: string; reason: string }[];
}

export interface ApplyResult {
  dryRun: boolean;
  actions: ProvisionAction[];
  /** True when the declared users, friends and groups were all in place already. */
  nothingToDo: boolean;
  /** How many actions failed (an invite some users of which were refused counts once). */
  failed: number;
}

export interface ApplyOptions {
  /** A loaded configuration: its `provision` section, `sync.stateDir`, and (unless `client` is given) `api`. */
  config: Pick<ResolvedConfig, 'provision' | 'sync' | 'api' | 'filepath'>;
  /** A client to use; by default one is made from `config.api`. */
  client?: LanyingClient | undefined;
  /** Plan only: no API writes (reads still happen, to see what is missing), no state writes, no lock. */
  dryRun?: boolean | undefined;
  /** Called after each action, as it happens. */
  onAction?: ((action: ProvisionAction) => void) | undefined;
  /** The clock for `created_at`. */
  now?: (() => number) | undefined;
}

/** A user whose ID is known (or, in a dry run, will be known once registered). */
interface KnownUser {
  index: number;
  spec: ResolvedProvisionUser;
  /** Undefined only in a dry run, for a user that would be registered. */
  id: number | undefined;
  /** Registered by this run (or, in a dry run, would be). */
  fresh: boolean;
}

const USER_ALREADY_EXISTS = 10004;
const GROUP_DOES_NOT_EXIST = 20001;

/**
 * Brings the app in line with the configuration's `provision` section: registers the declared users that are
 * missing, adds the missing friends, creates each declared group once and invites the missing members. Idempotent:
 * what exists is checked first (friend lists, member lists, recorded IDs), so a second run makes no API writes.
 *
 * Takes the state folder's lock while applying; the IDs of registered users and created groups are recorded in the
 * state database. A user that already exists but was not registered by lanying-kb needs `userId` in the config.
 *
 * An API refusal of one step (a friend, a profile, a group) is recorded as a failed action and the other steps go
 * on; an authentication or connection error, or a registration refused for another reason than "already exists",
 * stops the run (thrown).
 *
 * ```ts
 * const result = await applyProvision({ config, onAction: (a) => console.log(a.text) });
 * ```
 */
export async function applyProvision(options: ApplyOptions): Promise<ApplyResult> {
  const dryRun = options.dryRun ?? false;
  await using runtime = openRuntime(options.config, { command: 'apply', readonly: dryRun, client: options.client });
  return await new ApplyRun(options, runtime.client, runtime.store.provisioned, dryRun).apply();
}

class ApplyRun {
  readonly #actions: ProvisionAction[] = [];
  readonly #users = new Map<string, KnownUser>();

  constructor(
    private readonly options: ApplyOptions,
    private readonly client: LanyingClient,
    private readonly records: ProvisionedRecords,
    private readonly dryRun: boolean,
  ) {}

  async apply(): Promise<ApplyResult> {
    const { users, groups } = this.options.config.provision;
    this.#checkPasswords(users);
    for (const [index, spec] of users.entries()) await this.#ensureUser(index, spec);
    for (const user of this.#users.values()) await this.#ensureProfile(user);
    for (const user of this.#users.values()) await this.#ensureFriends(user);
    for (const group of groups) await this.#ensureGroup(group);
    return {
      dryRun: this.dryRun,
      actions: this.#actions,
      nothingToDo: this.#actions.length === 0,
      failed: this.#actions.filter((a) => !a.ok).length,
    };
  }

  /** Before any call: every user that may need registering has a password. */
  #checkPasswords(users: ResolvedProvisionUser[]): void {
    const problems = users.flatMap((u, i) =>
      u.userId === undefined && u.password === undefined && !this.records.get('user', u.username)
        ? [{ path: `provision.users[${i}].password`, message: `needed to register "${u.username}" (or set provision.users[${i}].userId to the ID of the existing user)` }]
        : [],
    );
    if (problems.length > 0) throw new ConfigError(this.options.config.filepath, problems);
  }

  async #ensureUser(index: number, spec: ResolvedProvisionUser): Promise<void> {
    const known = spec.userId ?? this.records.get('user', spec.username)?.remoteId;
    if (known !== undefined) {
      this.#users.set(spec.username, { index, spec, id: known, fresh: false });
      return;
    }
    const text = `register user ${spec.username}`;
    if (this.dryRun) {
      this.#users.set(spec.username, { index, spec, id: undefined, fresh: true });
      this.#record({ kind: 'register-user', text, subject: spec.username, done: false, ok: true });
      return;
    }
    let id: number;
    try {
      id = (await this.client.users.register({ username: spec.username, password: spec.password as string })).user_id;
    } catch (error) {
      if (error instanceof ApiError && error.code === USER_ALREADY_EXISTS) {
        throw new ConfigError(this.options.config.filepath, [
          {
            path: `provision.users[${index}].userId`,
            message: `user "${spec.username}" already exists (code ${USER_ALREADY_EXISTS}, ${error.meaning}) but lanying-kb did not register it, so its user ID is unknown: set provision.users[${index}].userId`,
          },
        ]);
      }
      throw error;
    }
    this.records.put('user', spec.username, id, this.#now());
    this.#users.set(spec.username, { index, spec, id, fresh: true });
    this.#record({ kind: 'register-user', text, subject: spec.username, done: true, ok: true, remoteId: id });
  }

  async #ensureProfile(user: KnownUser): Promise<void> {
    const { nickname, description, username } = user.spec;
    if (nickname === undefined && description === undefined) return;
    const update: { nick_name?: string; description?: string } = {};
    if (user.id === undefined || user.fresh) {
      if (nickname !== undefined) update.nick_name = nickname;
      if (description !== undefined) update.description = description;
    } else {
      const current = await this.client.users.profile({ actAs: user.id });
      if (nickname !== undefined && (current.nick_name ?? '') !== nickname) update.nick_name = nickname;
      if (description !== undefined && (current.description ?? '') !== description) update.description = description;
    }
    const fields = Object.keys(update);
    if (fields.length === 0) return;
    const text = `update profile of ${username} (${fields.map((f) => (f === 'nick_name' ? 'nickname' : f)).join(', ')})`;
    const error = this.dryRun ? undefined : await attempt(() => this.client.users.updateProfile(update, { actAs: user.id as number }));
    this.#record({ kind: 'update-profile', text, subject: username, done: !this.dryRun, ok: error === undefined, ...(error ? { error } : {}) });
  }

  async #ensureFriends(user: KnownUser): Promise<void> {
    const wanted = [...new Set(user.spec.friends)];
    if (wanted.length === 0) return;
    let present = new Set<number>();
    if (user.id !== undefined && !user.fresh) {
      present = new Set((await this.client.rosters.list(user.id)).map((r) => Number(r.user_id)));
    }
    const missing = wanted.filter((name) => {
      const id = this.#users.get(name)?.id;
      return id === undefined || !present.has(id);
    });
    if (missing.length === 0) return;
    const error = this.dryRun
      ? undefined
      : await attempt(() => this.client.rosters.add(user.id as number, missing.map((name) => this.#users.get(name)?.id as number)));
    for (const friend of missing) {
      this.#record({
        kind: 'add-friend',
        text: `add friend ${user.spec.username} -> ${friend}`,
        subject: user.spec.username,
        users: [friend],
        done: !this.dryRun,
        ok: error === undefined,
        ...(error ? { error } : {}),
      });
    }
  }

  async #ensureGroup(group: ResolvedProvisionGroup): Promise<void> {
    const owner = this.#users.get(group.owner) as KnownUser;
    const recorded = this.records.get('group', group.name)?.remoteId;
    let groupId: number | undefined;
    let members = new Set<number>();
    let note = '';
    if (recorded !== undefined) {
      try {
        for await (const m of this.client.groups.allMembers(recorded)) members.add(Number(m.user_id));
        groupId = recorded;
      } catch (error) {
        if (!(error instanceof ApiError) || error.code !== GROUP_DOES_NOT_EXIST) throw error;
        // Destroyed since it was created: create it again, so that the app matches the configuration.
        note = ` (group ${recorded} recorded for it no longer exists)`;
        members = new Set();
      }
    }

    if (groupId === undefined) {
      const text = `create group ${group.name}${note}`;
      if (this.dryRun) {
        this.#record({ kind: 'create-group', text, subject: group.name, done: false, ok: true });
      } else {
        const input = { name: group.name, ...(group.description !== undefined ? { description: group.description } : {}) };
        const outcome = await tryApi(() => this.client.groups.create(input, { actAs: owner.id as number }));
        const created = outcome.ok ? Number(outcome.value.group_id) : undefined;
        if (!outcome.ok || !created) {
          this.#record({ kind: 'create-group', text, subject: group.name, done: true, ok: false, error: outcome.ok ? 'no group ID in the response' : outcome.error });
          return;
        }
        // Recorded before the invites, so that a failure below never leads to a second group.
        this.records.put('group', group.name, created, this.#now());
        groupId = created;
        this.#record({ kind: 'create-group', text, subject: group.name, done: true, ok: true, remoteId: created });
      }
      if (owner.id !== undefined) members.add(owner.id);
    }

    const missing = [...new Set(group.members)].filter((name) => {
      if (name === group.owner) return false;
      const id = this.#users.get(name)?.id;
      return id === undefined || !members.has(id);
    });
    if (missing.length === 0) return;
    const text = `invite ${missing.length} user${missing.length === 1 ? '' : 's'} to ${group.name}`;
    if (this.dryRun || groupId === undefined) {
      this.#record({ kind: 'invite-members', text, subject: group.name, users: missing, done: false, ok: true });
      return;
    }
    const byId = new Map(missing.map((name) => [this.#users.get(name)?.id as number, name]));
    const gid = groupId;
    const outcome = await tryApi(() => this.client.groups.invite(gid, [...byId.keys()], { actAs: owner.id as number }));
    const error = outcome.ok ? undefined : outcome.error;
    const refused = !outcome.ok
      ? missing.map((username) => ({ username, reason: outcome.error }))
      : outcome.value.filter((r) => r.result !== 'success').map((r) => ({ username: byId.get(Number(r.user_id)) ?? String(r.user_id), reason: r.reason ?? 'refused' }));
    const ok = refused.length === 0;
    this.#record({
      kind: 'invite-members',
      text,
      subject: group.name,
      users: missing,
      done: true,
      ok,
      remoteId: gid,
      ...(ok ? {} : { refused, error: error ?? `${refused.length} of ${missing.length} refused: ${refused.map((r) => `${r.username} (${r.reason})`).join(', ')}` }),
    });
  }

  #record(action: ProvisionAction): void {
    this.#actions.push(action);
    this.options.onAction?.(action);
  }

  #now(): number {
    return this.options.now?.() ?? Date.now();
  }
}

/** Runs one API step; an API refusal becomes its message, anything else (auth, connection) is thrown. */
async function tryApi<T>(step: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await step() };
  } catch (error) {
    if (error instanceof ApiError && !(error instanceof AuthError)) return { ok: false, error: error.message };
    throw error;
  }
}

/** Like `tryApi`, for a step whose value is not needed: the refusal's message, or undefined. */
async function attempt(step: () => Promise<unknown>): Promise<string | undefined> {
  const outcome = await tryApi(step);
  return outcome.ok ? undefined : outcome.error;
}
