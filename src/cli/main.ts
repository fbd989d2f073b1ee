#!/usr/bin/env node
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

// Memory that follows what the run keeps, not how fast it makes garbage (see heap-growth.ts).
limitHeapGrowth(process.execArgv, process.env.NODE_OPTIONS);

const code = await runCli(process.argv.slice(2), processContext());
process.exitCode = code;
