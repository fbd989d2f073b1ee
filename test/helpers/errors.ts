import { expect } from 'vitest';

/** The reason `promise` rejects with; the test fails when it resolves instead. */
export async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}

/** The reason `promise` rejects with, checked to be an instance of `type`. */
export async function rejectionOf<T>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const error = await caught(promise);
  expect(error).toBeInstanceOf(type);
  return error as T;
}
