// Surviving mutants that are left as they are, and why (docs/MUTATION.md shows the reason next to each). A mutant
// matches an entry when its line in the source contains `line` (and, when given, its mutator is `mutator`).
// An equivalent mutant is better disabled in the source (`// Stryker disable next-line <mutator>: <why>`); this list
// is for mutants a test could kill but that are not worth one, each with its reason.

/** @type {Record<string, { line: string; mutator?: string; why: string }[]>} */
export const SURVIVORS = {
  'src/sync/report.ts': [
    { line: 'else this.#onEntry?.(entry);', mutator: 'OptionalChaining', why: 'equivalent: batchPlanned is called only on a report that streams (the engine asks `streams` first)' },
    { line: 'for (const entry of rest) this.#onEntry?.(entry);', mutator: 'OptionalChaining', why: 'equivalent: a report that does not stream has nothing in its batch or open set to hand over' },
    { line: 'this.#onEntry?.(entry);', mutator: 'OptionalChaining', why: 'equivalent: only a streaming report has open entries to settle' },
    { line: 'if (this.#open.has(entry)) this.#awaiting.add(entry);', mutator: 'ConditionalExpression', why: 'equivalent: an entry awaited that is not open is never handed over again (settling checks the open set) and flush clears both' },
  ],
  'src/sync/folder-digest.ts': [
    { line: 'const texts: string[] = new Array<string>(items.length + 2);', why: 'equivalent: the array is sized ahead only to avoid growing it; every slot is written before the join' },
  ],
  'src/daemon/path-batcher.ts': [
    { line: 'if (previous) this.#waiting.delete(key);', mutator: 'ConditionalExpression', why: 'equivalent for `true`: deleting a key that is not there does nothing (the `false` mutant is killed: a path touched again must go behind the others)' },
    {
      line: 'if (this.#closed) return;',
      mutator: 'ConditionalExpression',
      why: "equivalent in the timer, the tick and the flush: close() clears both timers, so none of them runs after it, and touch() (whose check is killed) arms nothing once closed",
    },
    {
      line: 'if (this.#timer !== undefined && this.#timerAt <= at) return;',
      why: 'equivalent for the timer check made `true` (the due time is Infinity whenever no timer is set) and for `<` (re-arming for the same time changes nothing); the due-time check itself is killed',
    },
    {
      line: 'const st = statSync(path, { throwIfNoEntry: false });',
      why: 'equivalent: a missing file that throws instead is caught below and read as missing all the same',
    },
    { line: '} catch {', mutator: 'BlockStatement', why: 'equivalent: the emptied catch returns undefined as well (an unreadable path: nothing to wait for)' },
  ],
  'src/protocol/bot-ext.ts': [
    { line: 'if (!ext) return undefined;', why: 'equivalent: a shortcut; an empty ext is no JSON, and the parse below gives undefined as well' },
    { line: '} catch {', mutator: 'BlockStatement', why: 'equivalent: without the early return, nothing parsed has no `ai` object, which gives undefined as well' },
  ],
  'src/protocol/kb-command-replies.ts': [
    { line: '} catch {', mutator: 'BlockStatement', why: 'equivalent: without the early return, nothing parsed is no object, which gives undefined as well' },
  ],
  'src/protocol/kb-notices.ts': [
    {
      line: 'const HEAD_RE = /^文章（ID：([^）\\s]+)）/;',
      mutator: 'Regex',
      why: 'equivalent without `^`: a head found after other text leaves the rest to read starting inside the head (at its `）`), which neither middle text starts with, so nothing parses either way',
    },
  ],
  'src/protocol/kb-send-replies.ts': [
    {
      line: "if (!ext || ext.requestMsgId === undefined || ext.requestMsgId !== requestMsgId.replace(",
      mutator: 'ConditionalExpression',
      why: 'equivalent for the undefined check made `false`: an ext without a request ID never equals the ID asked for (a string), so the next check returns as well',
    },
  ],
  'src/protocol/python-repr.ts': [
    { line: 'if (e === undefined) return undefined;', why: 'equivalent: a shortcut; a backslash at the very end is no known escape and takes no hex digits, so the check below refuses it as well' },
    {
      line: "if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) return undefined;",
      mutator: 'ConditionalExpression',
      why: 'equivalent for the width and length checks made `false`: an unknown escape takes no digits, which the hex test refuses; too few digits happen only at the end of the text, where the closing quote is then missing',
    },
  ],
  'src/audit/compare.ts': [
    {
      line: 'const view = (docId: string | null): SurveyedDocument | undefined => (docId === null ? undefined : survey.documents.get(docId));',
      mutator: 'ConditionalExpression',
      why: 'equivalent for `false`: the survey never holds a document under a null ID, so looking it up gives undefined as well (the `true` mutant is killed)',
    },
    {
      line: 'if (r.docId !== null) claimed.add(r.docId);',
      mutator: 'ConditionalExpression',
      why: 'equivalent for `true`: claiming a null ID claims nothing the survey holds (the `false` mutant is killed)',
    },
    {
      line: "if (r.prevDocId !== null && (r.status === 'sent' || r.status === 'unconfirmed')) claimed.add(r.prevDocId);",
      mutator: 'ConditionalExpression',
      why: "equivalent for the null check made `true`: claiming a null ID claims nothing the survey holds (the status part's mutants are killed)",
    },
    {
      line: "if (r.docId !== null && doc?.state === 'present') add({ kind: 'removed'",
      mutator: 'ConditionalExpression',
      why: 'equivalent for the null check made `true`: a row without a document ID has no surveyed document, so `doc?.state` is not `present` either',
    },
    { line: 'default:', mutator: 'ConditionalExpression', why: 'equivalent: the statuses no case names (skipped, deleted) add nothing either way' },
    {
      line: "if (v.docId === null || v.state === 'deleted' || (v.target !== null && v.target !== input.target)) continue;",
      mutator: 'ConditionalExpression',
      why: 'equivalent for the null check made `false`: a version without a document ID claims nothing the survey holds and has no surveyed document (the state and target mutants are killed)',
    },
    {
      line: 'if (source === null || !input.configuredSources.has(source)) {',
      mutator: 'ConditionalExpression',
      why: 'equivalent for the null check made `false`: no configured source is named null, so `has(null)` sends it to the same branch (the check is for the type checker)',
    },
    {
      line: '} else if (m.sync_id !== undefined && m.sync_id === r.syncId) {',
      mutator: 'ConditionalExpression',
      why: "equivalent for the undefined check made `true`: a row's sync ID is a string or null, never undefined, so a document without one never equals it",
    },
  ],
  'src/audit/survey.ts': [
    { line: 'if (uuid === undefined) return [];', why: 'equivalent: a shortcut; without a uuid nothing raises the highest sequence above 0, and the walk is empty as well' },
    { line: 'if (p.uuid === uuid && p.seq > highest) highest = p.seq;', mutator: 'EqualityOperator', why: 'equivalent for `>=`: setting the highest sequence to the value it already has changes nothing' },
    {
      line: 'if (best === undefined || n > (counts.get(best) ?? 0)) best = v;',
      mutator: 'ConditionalExpression',
      why: 'equivalent for the first check made `false`: with no best yet, `counts.get(undefined) ?? 0` is 0 and any count (at least 1) beats it',
    },
  ],
  'src/api/circuit-breaker.ts': [
    {
      line: "signal?.removeEventListener('abort', onAbort);",
      why: 'equivalent: a listener left in place would only run after the promise settled, and rejecting a settled promise does nothing',
    },
    { line: 'reject(signal?.reason);', why: 'equivalent: the abort listener only exists when there is a signal' },
    { line: "signal?.addEventListener('abort', onAbort, { once: true });", why: 'equivalent: a signal aborts once' },
    {
      line: "return new UnavailableError('rate-limited',",
      why: 'unreachable: the breaker is rate-limited only by an opening, which always sets the retry time and the last error',
    },
    {
      line: "if (now >= deadline || (state === 'open' && this.#retryAt !== undefined && this.#retryAt > deadline)) throw this.unavailableError();",
      why: 'equivalent: half-open, the last retry time has passed and the deadline has not, so it is never after the deadline; while open a retry time is always set (the check is for the type checker)',
    },
    {
      line: "const until = Math.min(deadline, state === 'open' && this.#retryAt !== undefined ? this.#retryAt : deadline);",
      why: "equivalent in a running process: the breaker's own timer wakes every waiter when the open time ends; the waiter's timer only keeps the process alive meanwhile, which it does either way",
    },
    {
      line: "else if (this.#state === 'half-open') this.#wakeAll();",
      why: 'equivalent: waiters woken (or not) while the probe is still out look and wait again',
    },
    { line: 'if (ticket.probe) this.#wakeAll();', mutator: 'ConditionalExpression', why: 'equivalent for `true`: waking waiters without cause is harmless, they look and wait again (the `false` mutant is killed)' },
    { line: 'return after !== undefined && after > this.longRetryAfterMs', mutator: 'ConditionalExpression', why: 'equivalent: `undefined > n` is false as well' },
    { line: "return { kind: 'neutral' };", why: "equivalent: the switch's default branch handles any other verdict the same way" },
    {
      line: "if (this.#state === 'open' && this.#retryAt !== undefined && this.#retryAt > retryAt) return;",
      why: 'equivalent: when not open the retry time is unset or already past, and while open it is always set; at an equal time, returning early or opening again to the same time changes nothing',
    },
    { line: "if (this.#state !== 'open') return;", why: 'equivalent: the timer that goes half-open is cleared whenever the breaker closes or opens again' },
  ],
  'src/sync/decide.ts': [
    {
      line: 'if (previous.retryAfter !== null && options.now < previous.retryAfter) {',
      mutator: 'ConditionalExpression',
      why: 'equivalent: without the null check, `now < null` compares with 0 and is false for any clock, as the check makes it',
    },
  ],
  'src/sync/transitions.ts': [
    {
      line: 'if (pending.uploadedHash !== null && pending.uploadedHash !== pending.hash) {',
      mutator: 'ConditionalExpression',
      why: 'equivalent: with no version in the knowledge base (uploadedHash null) the row has no document either (docId null), so prevHash and prevDocId come out null both ways',
    },
  ],
  'src/sources/folder/config.ts': [
    {
      line: 'export const folderSourceSchema = z.strictObject({',
      mutator: 'ObjectLiteral',
      why: 'a tooling artefact: the emptied schema breaks the module as it loads, so no test file can even start, which Stryker\'s vitest runner counts as survived. Made by hand, the same change fails every config test (checked).',
    },
  ],
  'src/sources/urls/config.ts': [
    {
      line: '.strictObject({',
      mutator: 'ObjectLiteral',
      why: 'the same artefact as the folder schema: the emptied schema breaks the module as it loads (every config test fails when the change is made by hand).',
    },
  ],
};
