import type { Writable } from 'node:stream';

/**
 * Everything a command may take from the process: the only place (with `main.ts`) where argv, the environment
 * and the working directory enter lanying-kb. Tests build one by hand.
 */
export interface CliContext {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Registers a handler for SIGINT/SIGTERM/SIGHUP; returns a function that removes it. */
  onSignal: (signal: NodeJS.Signals, handler: () => void) => () => void;
}

/** Options every command accepts. */
export interface GlobalOptions {
  config?: string | undefined;
  json?: boolean | undefined;
  verbose?: boolean | undefined;
}

export function processContext(): CliContext {
  return {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    onSignal: (signal, handler) => {
      process.on(signal, handler);
      return () => process.off(signal, handler);
    },
  };
}

export function writeLine(stream: Writable, text = ''): void {
  stream.write(`${text}\n`);
}

export function writeJson(stream: Writable, value: unknown): void {
  stream.write(`${JSON.stringify(value, null, 2)}\n`);
}
