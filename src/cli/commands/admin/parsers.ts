import { InvalidArgumentError } from 'commander';

// Option parsers for the admin commands' definitions. Kept apart from the actions so that defining the commands
// loads nothing but commander.

/** A commander option parser for one ID. */
export function idOption(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('not an ID (a positive integer)');
  return n;
}

/** A commander option parser for a repeatable or variadic list of IDs. */
export function idListOption(value: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), idOption(value)];
}

/** A commander option parser for a positive count. */
export function countOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('not a positive integer');
  return n;
}
