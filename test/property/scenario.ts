/**
 * What a lifecycle scenario shares across modes: a sandbox, a tree of folder sources with their config, the step
 * log printed with a failure, and the checks made along the way (an unmounted root deletes nothing) and at the end
 * (the knowledge base equals the sources).
 */

import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parseConfig } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/resolve.js';
import { checkKnowledgeBase } from '../../src/audit/check.js';
import { listDocuments } from '../../src/documents/list.js';
import { resendDocuments } from '../../src/documents/resend.js';
import { LanyingKbError } from '../../src/errors.js';
import type { SyncEvent } from '../../src/sync/engine.js';
import { syncOnce } from '../../src/sync/sync-once.js';
import { type FaultRule, type KbDocumentState, type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { STATE_DB_NAME, StateStore } from '../../src/state/store.js';
import { stepFaults } from './fault-menu.js';
import { compareKnowledgeBase, describeViolations, type Violation } from './kb-equals-sources.js';
import { mounting } from '../helpers/mounts.js';
import { type HiddenAs, SourceTree, type TreeOp, treeOpArbitrary } from './tree.js';

/** Two folder sources: an unmounted one must not stop the other from being checked. */
export const ROOT_NAMES = ['alpha', 'beta'] as const;

/**
 * How an unmounted root looks: its folder moved away (the daemon and the scan see it vanish), and, where this machine
 * lets the test mount (Linux, root), also an empty file system mounted over it (the root check of
 * `src/sources/folder/root-check.ts` must notice).
 */
export const HIDE_AS: readonly HiddenAs[] = (() => {
  if (!mounting.allowed) console.warn(`lifecycle property: an unmounted root is a vanished folder only (${mounting.reason})`);
  return mounting.allowed ? ['vanished', 'empty-mount'] : ['vanished'];
})();

/** One step: a few operations on the tree, then a run (or, in the daemon, the changes as they come) under faults. */
export interface Step {
  ops: TreeOp[];
  faults: FaultRule[];
}

/** A scenario: its steps, and whether it is strict (see `fault-menu.ts`). */
export interface Scenario {
  strict: boolean;
  steps: Step[];
}

/** Scenarios of `count` operations in steps of one to four; one in two is strict. */
export function scenarioArbitrary(count: number): fc.Arbitrary<Scenario> {
  return fc.boolean().chain((strict) => stepsArbitrary(count, strict).map((steps) => ({ strict, steps })));
}

/**
 * `count` operations in steps of one to four. One of them (at a drawn place) is always an unmount: drawn by weight
 * alone, a short scenario would often have none, and an unmounted root that deletes nothing is half the property.
 */
function stepsArbitrary(count: number, strict: boolean): fc.Arbitrary<Step[]> {
  const op = treeOpArbitrary({ roots: ROOT_NAMES.length, hideAs: HIDE_AS });
  const unmount = fc.record({ op: fc.constant('unmount' as const), root: fc.nat({ max: ROOT_NAMES.length - 1 }), as: fc.constantFrom(...HIDE_AS) });
  const drawn = fc.tuple(fc.array(op, { minLength: count, maxLength: count }), unmount, fc.nat()).map(([ops, forced, at]) => (ops.length === 0 ? ops : ops.map((o, i) => (i === at % ops.length ? forced : o))));
  return drawn.chain((ops) =>
    fc.array(fc.integer({ min: 1, max: 4 }), { minLength: ops.length, maxLength: ops.length }).chain((sizes) => {
      const groups: TreeOp[][] = [];
      for (let i = 0, g = 0; i < ops.length; g++) {
        groups.push(ops.slice(i, i + (sizes[g] as number)));
        i += sizes[g] as number;
      }
      return fc.array(stepFaults(strict), { minLength: groups.length, maxLength: groups.length }).map((faults) => {
        const steps = groups.map((g, i) => ({ ops: g, faults: faults[i] as FaultRule[] }));
        // fast-check prints the counterexample: a count, not the whole list (the failure lists the steps it took).
        Object.defineProperty(steps, fc.toStringMethod, { value: () => `${steps.length} steps of ${ops.length} operations${strict ? ' (strict)' : ''}`, enumerable: false });
        return steps;
      });
    }),
  );
}

/** A scenario's world: the sandbox, the tree and the configuration that syncs one with the other. */
export class World {
  readonly log: string[] = [];
  /** What the engine said about each document (`source:key`), in order: printed for the documents that differ. */
  readonly #events = new Map<string, string[]>();
  #step = 'start';
  /** Per hidden root: the files that had a finished document when it was unmounted. */
  readonly #kept = new Map<string, Set<string>>();

  private constructor(
    readonly sandbox: Sandbox,
    readonly dir: string,
    readonly tree: SourceTree,
    readonly raw: Record<string, unknown>,
    readonly config: ResolvedConfig,
  ) {}

  static async create(options: { docs: number; sync?: Record<string, unknown>; daemon?: Record<string, unknown> }): Promise<World> {
    const sandbox = await startSandbox({ ingestionDelayMs: 5 });
    const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'lkb-property-')));
    const tree = new SourceTree(dir, ROOT_NAMES);
    tree.populate(options.docs);
    const snippet = sandbox.configSnippet();
    const raw: Record<string, unknown> = {
      api: { ...snippet.api, maxRetries: 2, timeoutMs: 5000 },
      knowledgeBase: snippet.knowledgeBase,
      sources: tree.roots.map((r) => ({ type: 'folder', name: r.name, path: r.dir })),
      sync: {
        confirmPollInterval: 20,
        commandTimeout: 5000,
        confirmTimeout: '3s',
        // Failed ingestions are sent again at once, and never quarantined within a scenario.
        ingestRetryDelay: 0,
        maxIngestAttempts: 20,
        // No cap on deletions: an unmounted root (half the tree) must delete nothing because lanying-kb sees it is
        // unmounted, not because sync.maxDelete happens to hold the deletions back.
        maxDelete: { count: 1_000_000, percent: 100 },
        ...options.sync,
      },
      ...(options.daemon ? { daemon: options.daemon } : {}),
    };
    const config = parseConfig(raw, { baseDir: dir, filepath: path.join(dir, 'lanying-kb.config.json'), env: {} });
    return new World(sandbox, dir, tree, raw, config);
  }

  /** Applies a step's operations (logged) and notes what an unmount must keep. */
  apply(ops: readonly TreeOp[]): void {
    for (const op of ops) {
      const did = this.tree.apply(op);
      if (did === undefined) continue;
      this.log.push(did);
      if (op.op === 'unmount') this.#noteKept(op.root % this.tree.roots.length);
      if (op.op === 'restore') this.#kept.delete(this.tree.roots[op.root % this.tree.roots.length]?.name ?? '');
    }
  }

  /** The engine's events, kept by document (pass as `onEvent`). */
  readonly onEvent = (event: SyncEvent): void => {
    const note = (source: string, key: string, text: string) => {
      const where = `${source}:${key}`;
      const list = this.#events.get(where) ?? [];
      list.push(`${this.#step}: ${text}`);
      this.#events.set(where, list);
    };
    if (event.type === 'decision') note(event.entry.source, event.entry.key, `${event.entry.action} (${event.entry.reason})`);
    else if (event.type === 'sent') note(event.entry.source, event.entry.key, `sent as ${event.entry.msgId ?? '?'}`);
    else if (event.type === 'failed') note(event.entry.source, event.entry.key, `send failed: ${String(event.error).split('\n')[0]}`);
    else if (event.type === 'confirmed') {
      const c = event.confirmation;
      note(c.source, c.key, `${c.outcome}${'docId' in c && c.docId ? ` ${c.docId}` : ''}${'reason' in c ? ` (${c.reason})` : ''}`);
    } else if (event.type === 'deleted') {
      const d = event.deletion;
      note(d.source, d.key, `${d.what} ${d.docId}: ${d.result}${'reason' in d ? ` (${d.reason})` : ''}`);
    } else if (event.type === 'warning') this.log.push(`  warning: ${event.message}`);
  };

  /** Where the daemon's log goes (its JSON lines, kept by document like the engine's events). */
  readonly logDestination = {
    write: (chunk: string): void => {
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof entry.source === 'string' && typeof entry.key === 'string') {
          const where = `${entry.source}:${entry.key}`;
          const list = this.#events.get(where) ?? [];
          list.push(`${this.#step}: ${String(entry.msg)}`);
          this.#events.set(where, list);
        } else if (entry.level !== undefined && Number(entry.level) >= 40) this.log.push(`  log: ${String(entry.msg)}`);
      }
    },
  };

  /** Names the step that the next events belong to. */
  stepNamed(name: string): void {
    this.#step = name;
  }

  setFaults(faults: FaultRule[]): void {
    this.sandbox.setFaults(faults);
    if (faults.length > 0) this.log.push(`faults ${JSON.stringify(faults)}`);
  }

  documents(): KbDocumentState[] {
    return this.sandbox.state().knowledgeBase.documents;
  }

  /** An unmounted root deletes nothing: each of its files that had a finished document still has one. */
  checkUnmountedKept(): void {
    const docs = this.documents();
    for (const [source, keys] of this.#kept) {
      for (const key of keys) {
        if (!docs.some((d) => d.metadata.source === source && d.metadata.path === key && d.status === 'finish')) {
          throw this.failure(`the unmounted root ${source} lost the document of ${key}`, [{ kind: 'missing', what: `${source}:${key}`, detail: 'lost while its root was unmounted' }]);
        }
      }
    }
  }

  /** An error a run under faults may end with: one of lanying-kb's typed errors. Anything else is a bug. */
  expectTyped(error: unknown): string {
    if (error instanceof LanyingKbError) return `${error.name}: ${error.message.split('\n')[0]}`;
    throw this.failure(`a run ended with an untyped error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  /** The differences between the knowledge base and the sources (all roots visible). */
  violations(): Violation[] {
    return compareKnowledgeBase(this.tree.expected(), this.documents());
  }

  /**
   * The violations split by whether the state owns up to them: a document sent and never confirmed (`unconfirmed`,
   * or a version recorded without a document ID) may or may not be in the knowledge base, and lanying-kb says so
   * instead of guessing (issue 11: "never guessed and never re-sent blindly"); `check --adopt`, `prune` and
   * `resend` settle those. Every other violation is a bug.
   */
  verdict(): { bugs: Violation[]; unconfirmed: Violation[] } {
    const violations = this.violations();
    if (violations.length === 0) return { bugs: [], unconfirmed: [] };
    const store = StateStore.open(this.config.sync.stateDir, { readonly: true });
    try {
      const uncertain = uncertainVersions(store);
      const bugs: Violation[] = [];
      const unconfirmed: Violation[] = [];
      for (const v of violations) (explainedByUncertainty(v, store, uncertain) ? unconfirmed : bugs).push(v);
      return { bugs, unconfirmed };
    } finally {
      store.close();
    }
  }

  /**
   * Fails on every violation the state does not own up to. Those it does own up to (documents never confirmed: a lost
   * notice, a failed download that left no metadata) fail a strict scenario; elsewhere they are settled the documented
   * way (README FAQ, "Some documents are unconfirmed"), and after that nothing may differ.
   */
  async judge(options: { strict: boolean }): Promise<void> {
    const { bugs, unconfirmed } = this.verdict();
    const failing = options.strict ? [...bugs, ...unconfirmed] : bugs;
    if (failing.length > 0) throw this.failure('the knowledge base does not equal the sources', failing);
    if (unconfirmed.length === 0) return;
    const note = `${unconfirmed.length} difference(s) left by documents never confirmed, settled with check --adopt, resend and a sync: ${describeViolations(unconfirmed, 3).replaceAll('\n', ';')}`;
    this.log.push(note);
    console.log(`lifecycle property: ${note}`);
    await this.settle();
    // A failed download whose notice was lost leaves a listed `error` document without metadata: nothing proves it is
    // lanying-kb's, so nothing deletes it (by design). Only those may stay.
    const unprovable = new Set(unconfirmed.filter((v) => v.kind === 'anonymous' && v.doc?.status === 'error').map((v) => v.doc?.doc_id));
    const after = this.violations().filter((v) => !(v.kind === 'anonymous' && unprovable.has(v.doc?.doc_id)));
    if (after.length > 0) throw this.failure('the knowledge base does not equal the sources after check --adopt, resend and a sync', after);
  }

  /**
   * Settles the documents never confirmed: `check --adopt` records those the knowledge base holds (proven by their
   * metadata), `resend` sends again those still unconfirmed (they are not there), and a sync with `--prune` replaces
   * and deletes what they stood for. With no fault left, one round is enough.
   */
  async settle(): Promise<void> {
    this.stepNamed('settle');
    const check = await checkKnowledgeBase({ config: this.config, adopt: true });
    this.log.push(`check --adopt: adopted ${check.knowledgeBases.reduce((n, kb) => n + kb.adopted, 0)}`);
    const left = listDocuments({ config: this.config, statuses: ['unconfirmed'] });
    for (const source of new Set(left.map((d) => d.source))) {
      const keys = left.filter((d) => d.source === source).map((d) => d.key);
      const resent = await resendDocuments({ config: this.config, sources: [source], keys, onEvent: this.onEvent });
      this.log.push(`resend ${source}: ${resent.marked.length} marked, ${resent.left.length} left (${resent.left.map((l) => `${l.document.key}: ${l.reason}`).join('; ')})`);
    }
    await this.sandbox.idle(30_000);
    const report = await syncOnce({ config: this.config, prune: 'all', onEvent: this.onEvent });
    this.log.push(`sync --prune after settling: ${report.outcome}, sent ${report.counts.sent}, deleted ${report.counts.deleted}`);
    await this.sandbox.idle(30_000);
  }

  failure(message: string, violations?: readonly Violation[]): Error {
    const tail = this.log.slice(-40);
    return new Error(
      [
        message,
        ...(violations ? [describeViolations(violations), ...this.#stateOf(violations)] : []),
        `the last ${tail.length} of ${this.log.length} steps:`,
        ...tail.map((l) => `  ${l}`),
      ].join('\n'),
    );
  }

  /** What the state records of the documents in `violations` (the first few). */
  #stateOf(violations: readonly Violation[]): string[] {
    const lines: string[] = [];
    let store: StateStore | undefined;
    try {
      store = StateStore.open(this.config.sync.stateDir, { readonly: true });
      for (const where of [...new Set(violations.map((v) => v.what))].slice(0, 6)) {
        const [source, ...rest] = where.split(':');
        const key = rest.join(':');
        const row = store.get(source as string, key);
        const pick = row && (({ status, docId, syncId, uploadedHash, hash, prevHash, prevDocId, msgId, lastError, movedFrom, ingestAttempts }) => ({ status, docId, syncId, uploadedHash: uploadedHash?.slice(0, 8), hash: hash?.slice(0, 8), prevHash: prevHash?.slice(0, 8), prevDocId, msgId, lastError, movedFrom, ingestAttempts }))(row);
        lines.push(`  state ${where}: ${JSON.stringify(pick ?? null)}`);
        for (const v of store.kbVersions({ source: source as string, key })) lines.push(`    version ${v.docId ?? 'no doc'} ${v.state}: ${v.reason} (sync_id ${v.syncId})`);
        for (const line of this.log.filter((l) => l.includes(key))) lines.push(`    step: ${line}`);
        for (const line of this.#events.get(where) ?? []) lines.push(`    event ${line}`);
      }
      // Rows elsewhere that name the documents (a file moved since): their key and status.
      const docIds = new Set(violations.map((v) => v.doc?.doc_id).filter((id) => id !== undefined));
      for (const row of docIds.size > 0 ? store.list() : []) {
        if ((row.docId !== null && docIds.has(row.docId)) || (row.prevDocId !== null && docIds.has(row.prevDocId))) {
          lines.push(`  row naming ${row.docId !== null && docIds.has(row.docId) ? row.docId : row.prevDocId}: ${row.source}:${row.key} ${JSON.stringify({ status: row.status, docId: row.docId, prevDocId: row.prevDocId, syncId: row.syncId, movedFrom: row.movedFrom })}`);
        }
      }
    } catch (error) {
      lines.push(`  (state unreadable: ${String(error)})`);
    } finally {
      store?.close();
    }
    return lines;
  }

  async close(): Promise<void> {
    if (process.env.LANYING_KB_PROPERTY_VERBOSE === '1') console.log(this.log.join('\n'));
    this.tree.dispose();
    await this.sandbox.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * The files of a root being unmounted that have a finished document, and that lanying-kb has not taken for removed
   * already (a file deleted, its removal recorded, and brought back in the same moment as the unmount: lanying-kb
   * could not see it back, and deletes it after the grace period, as it should).
   */
  #noteKept(root: number): void {
    const name = this.tree.roots[root]?.name as string;
    const docs = this.documents();
    const keys = new Set<string>();
    const store = existsSync(path.join(this.config.sync.stateDir, STATE_DB_NAME)) ? StateStore.open(this.config.sync.stateDir, { readonly: true }) : undefined;
    try {
      for (const file of this.tree.filesOf(root)) {
        const status = store?.get(name, file.key)?.status;
        if (status === 'removed' || status === 'deleted') continue;
        if (docs.some((d) => d.metadata.source === name && d.metadata.path === file.key && d.status === 'finish')) keys.add(file.key);
      }
    } finally {
      store?.close();
    }
    this.#kept.set(name, keys);
  }
}

/** The versions the state knows it sent but cannot name a document of. */
function uncertainVersions(store: StateStore): { syncIds: Set<string>; msgIds: Set<string>; waitingOld: Set<string> } {
  const syncIds = new Set<string>();
  const msgIds = new Set<string>();
  const waitingOld = new Set<string>();
  for (const row of store.list()) {
    // An old version stays until its successor, never confirmed, is (wherever the file moved since).
    if (row.status === 'unconfirmed' && row.prevDocId !== null) waitingOld.add(row.prevDocId);
    if (row.docId !== null || row.uploadedHash === null || !['unconfirmed', 'removed'].includes(row.status)) continue;
    if (row.syncId) syncIds.add(row.syncId);
    if (row.msgId) msgIds.add(row.msgId);
  }
  for (const version of store.kbVersions({ states: ['superseded', 'delete'] })) {
    if (version.docId !== null) continue;
    if (version.syncId) syncIds.add(version.syncId);
    if (version.msgId) msgIds.add(version.msgId);
  }
  return { syncIds, msgIds, waitingOld };
}

function explainedByUncertainty(v: Violation, store: StateStore, uncertain: { syncIds: Set<string>; msgIds: Set<string>; waitingOld: Set<string> }): boolean {
  const [source, ...rest] = v.what.split(':');
  const row = store.get(source as string, rest.join(':'));
  if (v.kind === 'missing') return row?.status === 'unconfirmed' && row.uploadedHash === v.sha256;
  if (v.kind === 'duplicate' || !v.doc) return false;
  const doc = v.doc;
  if (doc.metadata.sync_id !== undefined && uncertain.syncIds.has(doc.metadata.sync_id)) return true;
  if (uncertain.msgIds.has(doc.msg_id)) return true;
  return (v.kind === 'stale' || v.kind === 'left') && uncertain.waitingOld.has(doc.doc_id);
}
