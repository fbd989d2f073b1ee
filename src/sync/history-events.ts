import type { StateStore } from '../state/store.js';

/** The part of an engine event (`SyncEvent`) the send history looks at. */
interface CountedEvent {
  type: string;
  entry?: { action: string };
}

/**
 * `onEvent` that also counts, in the state's send history, every document the chatbot accepted (`sent`) and every one
 * that failed (a failed send, or a document that could not be read or fetched): the status page's 24-hour chart.
 */
export function withSendHistory<E extends CountedEvent>(store: StateStore, onEvent: ((event: E) => void) | undefined, now: () => number): (event: E) => void {
  return (event) => {
    if (event.type === 'sent') store.sendHistory.record('sent', now());
    else if (event.type === 'failed' || (event.type === 'decision' && event.entry?.action === 'failed')) store.sendHistory.record('failed', now());
    onEvent?.(event);
  };
}
