import path from 'node:path';
import type { CliContext, GlobalOptions } from '../context.js';
import { writeLine, writeResult } from '../context.js';
import { EXIT } from '../exit-codes.js';

export interface SandboxCommandOptions {
  host: string;
  port: number;
  siteDir?: string;
  appId: string;
  accessToken?: string;
  /** `--fault`, repeatable: JSON or key=value pairs. */
  fault?: string[];
  otherKb?: string[];
  storageLimit?: number;
}

/** `lanying-kb sandbox`: runs until SIGINT or SIGTERM. */
export async function sandboxCommand(options: SandboxCommandOptions, globals: GlobalOptions, ctx: CliContext): Promise<number> {
  const { startSandbox, formatSandboxBanner, parseFaultArgument } = await import('../../sandbox/index.js');
  const faults = (options.fault ?? []).flatMap((text) => parseFaultArgument(text));
  const sandbox = await startSandbox({
    host: options.host,
    port: options.port,
    appId: options.appId,
    accessToken: options.accessToken,
    siteDir: options.siteDir === undefined ? undefined : path.resolve(ctx.cwd, options.siteDir),
    faults,
    ...(options.otherKb ? { knowledgeBase: { otherKnowledgeBases: options.otherKb } } : {}),
    ...(options.storageLimit !== undefined ? { chatbot: { storageLimitBytes: options.storageLimit } } : {}),
  });
  if (globals.json) writeResult(ctx, globals, { url: sandbox.url, config: sandbox.configSnippet() });
  else writeLine(ctx.stdout, formatSandboxBanner(sandbox));

  await new Promise<void>((resolve) => {
    const offs: (() => void)[] = [];
    const stop = () => {
      for (const off of offs) off();
      resolve();
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) offs.push(ctx.onSignal(signal, stop));
  });
  await sandbox.close();
  return EXIT.OK;
}
