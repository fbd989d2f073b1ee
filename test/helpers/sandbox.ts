import { onTestFinished } from 'vitest';
import { LanyingClient, type LanyingClientOptions } from '../../src/api/client.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';

/** Starts a sandbox on 127.0.0.1 port 0 that is closed when the test finishes. */
export async function useSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ ingestionDelayMs: 5, ...options });
  onTestFinished(() => sandbox.close());
  return sandbox;
}

/** A client for a sandbox; waits between retries are recorded, not slept, unless `realSleep` is set. */
export function clientFor(
  sandbox: Sandbox,
  options: Partial<LanyingClientOptions> & { realSleep?: boolean } = {},
): { client: LanyingClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const { realSleep, ...rest } = options;
  const client = new LanyingClient({
    endpoint: sandbox.url,
    appId: sandbox.appId,
    accessToken: sandbox.accessToken,
    ...(realSleep
      ? {}
      : {
          sleep: async (ms: number) => {
            sleeps.push(ms);
          },
        }),
    ...rest,
  });
  return { client, sleeps };
}

/** Registers users in the sandbox and returns their IDs. */
export async function registerUsers(client: LanyingClient, names: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const username of names) ids.push((await client.users.register({ username, password: 'pw-123456' })).user_id);
  return ids;
}
