import { describe, expect, it } from 'vitest';
import { createLogger, formatLogLine } from '../../src/daemon/logger.js';

function sink() {
  let text = '';
  return { destination: { write: (chunk: string) => void (text += chunk) }, text: () => text };
}

describe('the daemon logger', () => {
  it('writes one JSON object a line (level name, ISO time) and never a token', () => {
    const out = sink();
    const logger = createLogger({ destination: out.destination });
    logger.info({ event: 'sent', source: 'docs', key: 'a.md', accessToken: 'sbx_secret', config: { api: { accessToken: 'sbx_secret' } } }, 'sent docs:a.md');
    logger.debug('hidden at info');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'info', name: 'lanying-kb', event: 'sent', source: 'docs', key: 'a.md', msg: 'sent docs:a.md' });
    expect(String(record.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(out.text()).not.toContain('sbx_secret');
  });

  it('writes readable lines for a terminal', () => {
    const out = sink();
    const logger = createLogger({ destination: out.destination, format: 'pretty', level: 'debug' });
    logger.warn({ event: 'failed', source: 'docs', key: 'my file.md', reason: 'HTTP 503', attempts: 3 }, 'failed docs:my file.md');
    logger.debug('details');
    const lines = out.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN {2}failed docs:my file\.md {2}reason="HTTP 503" attempts=3$/);
    expect(lines[1]).toMatch(/ DEBUG details$/);
    expect(formatLogLine({ level: 'info', msg: 'x', nested: { a: 1 } })).toMatch(/INFO {2}x {2}nested=\{"a":1\}$/);
  });
});
