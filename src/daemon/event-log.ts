import type { CallEvent } from '../api/client.js';
import type { SyncEvent } from '../sync/engine.js';
import type { Logger } from './logger.js';

/**
 * Logs what the engine decides and sends. A file skipped again for the same reason (`repeated`) is logged at debug:
 * at info once, then quiet at every later reconcile.
 */
export function logSyncEvent(log: Logger, event: SyncEvent): void {
  if (event.type === 'decision') {
    const { action, source, key, reason, movedFrom } = event.entry;
    if (action === 'new' || action === 'changed' || event.repeated) log.debug({ event: action, source, key, reason }, `${action} ${source}:${key} (${reason})`);
    else if (action === 'failed') log.warn({ event: 'failed', source, key, reason }, `failed ${source}:${key}: ${reason}`);
    else log.info({ event: action, source, key, reason, ...(movedFrom ? { from: movedFrom } : {}) }, `${action} ${source}:${key} (${reason})`);
  } else if (event.type === 'sent') {
    const { source, key, bytes, msgId, reason } = event.entry;
    log.info({ event: 'sent', source, key, reason, bytes, msgId, durationMs: Math.round(event.durationMs) }, `sent ${source}:${key} (${reason})`);
  } else if (event.type === 'failed') {
    const { source, key, error } = event.entry;
    const reason = error ?? oneLine(event.error);
    log.warn({ event: 'failed', source, key, reason }, `failed ${source}:${key}: ${reason}`);
  } else if (event.type === 'confirmed') {
    const c = event.confirmation;
    if (c.outcome === 'ingested') log.info({ event: 'ingested', source: c.source, key: c.key, docId: c.docId }, `ingested ${c.source}:${c.key} as document ${c.docId}`);
    else log.warn({ event: c.outcome, source: c.source, key: c.key, reason: c.reason }, `${c.outcome} ${c.source}:${c.key}: ${c.reason}`);
  } else if (event.type === 'deleted') {
    const d = event.deletion;
    const what = d.what === 'removed' ? 'left its source' : 'an old or failed version';
    if (d.result === 'deleted' || d.result === 'already-gone') {
      log.info({ event: 'deleted', source: d.source, key: d.key, docId: d.docId, result: d.result }, `deleted document ${d.docId} of ${d.source}:${d.key} (${what}${d.result === 'already-gone' ? ', already gone' : ''})`);
    } else {
      const reason = 'reason' in d ? d.reason : d.result;
      log.warn({ event: 'delete-failed', source: d.source, key: d.key, docId: d.docId, result: d.result, reason }, `did not delete document ${d.docId} of ${d.source}:${d.key}: ${reason}`);
    }
  } else if (event.type === 'warning') {
    log.warn({ event: 'warning' }, event.message);
  }
}

/** Logs an API call that failed (at debug: the document's own failure is logged at warn). */
export function logCallEvent(log: Logger, event: CallEvent): void {
  if (event.error === undefined && (event.status === undefined || event.status < 400)) return;
  log.debug(
    { event: 'api-error', method: event.method, path: event.path, status: event.status, code: event.code, error: event.error, attempt: event.attempt, willRetry: event.willRetry },
    `${event.method} ${event.path} failed`,
  );
}

/** An error's message on one line. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('; ');
}
