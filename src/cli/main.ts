#!/usr/bin/env node
import module from 'node:module';
import { processContext } from './context.js';
import { limitHeapGrowth } from './heap-growth.js';
import { runCli } from './program.js';

// A reader that went away (`lanying-kb sync --dry-run | head`) ends the output, not the run with a stack trace:
// the rest of the output is dropped, as a C program's would be on SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    stream.destroy();
  });
}

// Node 22.1 and later keep the compiled code of the modules a command loads (in the OS's temporary folder): later
// starts skip compiling them. Node 20 has no such cache.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const code = await runCli(process.argv.slice(2), processContext(), {
  // Memory that follows what the run keeps, not how fast it makes garbage (heap-growth.ts). Set once the command's
  // modules are loaded: during start-up it would cost collections (80 ms of a 300 ms dry run).
  commandLoaded: () => limitHeapGrowth(process.execArgv, process.env.NODE_OPTIONS),
});
process.exitCode = code;
