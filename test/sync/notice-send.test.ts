import { describe, expect, it } from 'vitest';
import { isAboutAnotherSend } from '../../src/sync/confirm.js';

describe('isAboutAnotherSend: a notice proven to be about a version, and the send of it on its way', () => {
  it.each<[string, { transactionId: number | null; msgId: string | null }, string | undefined, string, boolean]>([
    ['the same transaction ID: this send', { transactionId: 77, msgId: '500' }, '77', '600', false],
    ['the same transaction ID, the notice older than the message (a repeat answered with an old one): this send', { transactionId: 77, msgId: '500' }, '77', '400', false],
    ['another transaction ID: an earlier send, though the notice is newer', { transactionId: 77, msgId: '500' }, '76', '600', true],
    ['no transaction ID in the metadata, the notice newer than the message: this send', { transactionId: 77, msgId: '500' }, undefined, '600', false],
    ['no transaction ID in the metadata, the notice older than the message: an earlier send', { transactionId: 77, msgId: '500' }, undefined, '499', true],
    ['no transaction ID in the row: by the message', { transactionId: null, msgId: '500' }, '76', '499', true],
    ['no transaction ID in the row, the notice newer: this send', { transactionId: null, msgId: '500' }, '76', '501', false],
    ['message IDs beyond 2^53 compare as numbers', { transactionId: null, msgId: '1152921504606847120' }, undefined, '1152921504606847119', true],
    ['message IDs of different lengths compare as numbers, not as text', { transactionId: null, msgId: '99' }, undefined, '100', false],
    ['nothing to compare with: this send', { transactionId: null, msgId: null }, undefined, '1', false],
  ])('%s', (_name, row, noticeTransactionId, noticeMsgId, expected) => {
    expect(isAboutAnotherSend(row, noticeTransactionId, noticeMsgId)).toBe(expected);
  });
});
