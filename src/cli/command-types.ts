import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from './context.js';

/** A command's action: gets its own options, the global ones, and the context; returns its exit code. */
export type CommandAction<O> = (options: O, globals: GlobalOptions, ctx: CliContext, args: string[]) => Promise<number>;

/** Wraps a lazily imported command action for commander. */
export type Lazy = <O>(load: () => Promise<CommandAction<O>>) => (this: Command, ...args: unknown[]) => Promise<void>;
/** Adds one command (or a group of subcommands) to the program. */
export type Register = (program: Command, lazy: Lazy) => void;

