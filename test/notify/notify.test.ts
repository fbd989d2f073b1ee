import { describe, expect, it } from 'vitest';
import { LanyingClient } from '../../src/api/client.js';
import { type NotifyEvent, notifyRun } from '../../src/notify/notify.js';
import type { ResolvedNotifyConfig } from '../../src/config/resolve.js';
import { clientFor, registerUsers, useSandbox } from '../helpers/sandbox.js';
import { reportWith } from './fixtures.js';

type Stored = { content: string };
type PushRecord = { audience: unknown; message: { title?: string; body?: string } };

describe('notifyRun', () => {
  it('sends the rendered summary as a push and as messages to users and to groups', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const [from, reader] = (await registerUsers(client, ['kbbot', 'reader'])) as number[];
    const group = await client.groups.create({ name: 'Docs' }, { actAs: from as number });
    const config: ResolvedNotifyConfig = {
      push: { audience: { user_id: [reader as number] }, title: '{kb} updated', body: '{added} added, {updated} updated, {failed} failed' },
      message: { from: from as number, users: [reader as number], groups: [group.group_id], text: '{source}: {sent} sent in run {run}' },
    };
    const events: NotifyEvent[] = [];
    const result = await notifyRun(client, config, reportWith({ new: 2, changed: 1, sent: 3 }), { kbName: 'docs', log: (e) => events.push(e) });
    expect(result).toMatchObject({ due: true, ok: true });
    expect(result.deliveries.map((d) => [d.channel, d.target])).toEqual([
      ['push', 'user_id (1)'],
      ['message', `users ${reader}`],
      ['message', `groups ${group.group_id}`],
    ]);
    expect((sandbox.state().push as PushRecord[])[0]?.message).toMatchObject({ title: 'docs updated', body: '2 added, 1 updated, 0 failed' });
    const texts = (sandbox.state().messages as Stored[]).map((m) => m.content).filter((c) => c.startsWith('handbook'));
    expect(new Set(texts)).toEqual(new Set(['handbook, website: 3 sent in run 7']));
    expect(events.filter((e) => e.type === 'notify-sent')).toHaveLength(3);
  });

  it('sends nothing when nothing was sent or failed, or for a dry run', async () => {
    const sandbox = await useSandbox();
    const { client } = clientFor(sandbox);
    const config: ResolvedNotifyConfig = { push: { audience: 'all', title: undefined, body: '{added}' }, message: undefined };
    const events: NotifyEvent[] = [];
    const quiet = await notifyRun(client, config, reportWith({ unchanged: 12, removed: 1, moved: 1, skipped: 2 }), { log: (e) => events.push(e) });
    expect(quiet).toEqual({ due: false, skipped: 'nothing changed', deliveries: [], ok: true });
    expect((await notifyRun(client, config, reportWith({ sent: 1 }, { dryRun: true }))).skipped).toBe('dry run');
    expect((await notifyRun(client, { push: undefined, message: undefined }, reportWith({ sent: 1 }))).skipped).toBe('not configured');
    expect(events).toEqual([{ type: 'notify-skipped', reason: 'nothing changed' }]);
    expect(sandbox.state().requests).toHaveLength(0);
    // A failure alone is worth a summary.
    expect((await notifyRun(client, config, reportWith({ failed: 1 }))).due).toBe(true);
    expect(sandbox.state().push).toHaveLength(1);
  });

  it('never throws: a refused push (12006) and an unreachable server are returned and logged, the rest still goes', async () => {
    const sandbox = await useSandbox({ pushEnabled: false });
    const { client } = clientFor(sandbox);
    const [from, reader] = (await registerUsers(client, ['kbbot', 'reader'])) as number[];
    const config: ResolvedNotifyConfig = {
      push: { audience: 'all', title: undefined, body: '{added} added' },
      message: { from: from as number, users: [reader as number], groups: [], text: '{added} added' },
    };
    const events: NotifyEvent[] = [];
    const result = await notifyRun(client, config, reportWith({ new: 1, sent: 1 }), {
      log: (e) => {
        events.push(e);
        throw new Error('a broken logger');
      },
    });
    expect(result.ok).toBe(false);
    expect(result.deliveries[0]).toMatchObject({ channel: 'push', ok: false, code: 12006, error: expect.stringMatching(/push feature not enabled/) });
    expect(result.deliveries[1]).toMatchObject({ channel: 'message', ok: true });
    expect(events.map((e) => e.type)).toEqual(['notify-failed', 'notify-sent']);

    const dead = new LanyingClient({ endpoint: 'http://127.0.0.1:9', appId: 'a', accessToken: 't', maxRetries: 0 });
    const offline = await notifyRun(dead, config, reportWith({ sent: 1 }));
    expect(offline.ok).toBe(false);
    expect(offline.deliveries.every((d) => !d.ok && /connection failed/.test(d.error ?? ''))).toBe(true);
  });
});
