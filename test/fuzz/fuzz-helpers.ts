import type { LanyingKbError } from '../../src/errors.js';

/** Each fuzz case must end within this (a hang detector, not a performance limit). */
export const CASE_LIMIT_MS = 5000;

/** Runs `fn`, failing when it takes longer than {@link CASE_LIMIT_MS}. */
export async function bounded<T>(fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`a fuzz case took longer than ${CASE_LIMIT_MS} ms`)), CASE_LIMIT_MS);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What a user may see from a failure: one of lanying-kb's typed errors, whose message has no stack trace in it.
 * Anything else (a TypeError, a RangeError from a stack overflow, ...) fails the property.
 */
export function assertTypedFailure(error: unknown, ...types: (abstract new (...args: never[]) => LanyingKbError)[]): void {
  if (!types.some((type) => error instanceof type)) {
    throw new Error(`expected a ${types.map((t) => t.name).join(' or ')}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
  const message = (error as Error).message;
  if (/\n\s+at /.test(message) || message.trim() === '') throw new Error(`the message is empty or holds a stack trace: ${message}`);
}
