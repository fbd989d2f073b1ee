/**
 * The edges of the chatbot-reply parsers (test/protocol/chatbot-replies.test.ts reads the vendor's real texts): what
 * is not quite one of those texts must not be read as one. A prefix or a suffix around a known text, an error code
 * without its usual text, a list the chatbot could not have printed. Each row is a rule mutation testing found no
 * test held.
 */
import { describe, expect, it } from 'vitest';
import { KB_BOT_ROLE, readBotExt } from '../../src/protocol/bot-ext.js';
import {
  isCommandHelpReply,
  parseCommandFailure,
  parseDeleteReply,
  parseHelpRefusedReply,
  parseInfoReply,
  parseMetadataGetReply,
  parseMetadataSetReply,
  parseModeAutoReply,
  parseStatusReply,
} from '../../src/protocol/kb-command-replies.js';
import { isKnownFailureReason, KB_FAILURE_REASONS, parseCompletionNotice } from '../../src/protocol/kb-notices.js';
import { classifySendReply, parseSendReply } from '../../src/protocol/kb-send-replies.js';
import { parsePythonStringList } from '../../src/protocol/python-repr.js';

const withCode = (content: string, code: string) => ({ content, ext: JSON.stringify({ ai: { role: 'ai', error_code: code, request_msg_id: 7 } }) });

describe('readBotExt', () => {
  it.each<[string, string | undefined, unknown]>([
    ['no ext', undefined, undefined],
    ['an empty ext', '', undefined],
    ['not JSON', 'not json', undefined],
    ['no ai object', '{"other": {"role": "ai"}}', undefined],
    ['ai is null', '{"ai": null}', undefined],
    ['ai is a list', '{"ai": [1]}', undefined],
    ['ai is a text', '{"ai": "x"}', undefined],
    ['the whole ext is a list', '[{"ai": {}}]', undefined],
    ['an empty ai', '{"ai": {}}', { role: undefined, requestMsgId: undefined, errorCode: undefined, result: undefined }],
    // Integers are kept as their text (a message ID above 2^53 must not lose digits); other numbers are no text.
    ['a safe integer ID', '{"ai": {"request_msg_id": 12345}}', { role: undefined, requestMsgId: '12345', errorCode: undefined, result: undefined }],
    ['fields of other types', '{"ai": {"role": 1.5, "error_code": -3, "result": 1e3, "request_msg_id": 1.5}}', { role: undefined, requestMsgId: undefined, errorCode: '-3', result: undefined }],
    ['an ID that is not all digits', '{"ai": {"request_msg_id": "12a"}}', { role: undefined, requestMsgId: undefined, errorCode: undefined, result: undefined }],
    ['an ID with a letter first', '{"ai": {"request_msg_id": "a12"}}', { role: undefined, requestMsgId: undefined, errorCode: undefined, result: undefined }],
    ['an ID that is a list', '{"ai": {"request_msg_id": [7]}}', { role: undefined, requestMsgId: undefined, errorCode: undefined, result: undefined }],
    // Leading zeros do not make another message.
    ['leading zeros', '{"ai": {"request_msg_id": "007"}}', { role: undefined, requestMsgId: '7', errorCode: undefined, result: undefined }],
    ['zero', '{"ai": {"request_msg_id": "000"}}', { role: undefined, requestMsgId: '0', errorCode: undefined, result: undefined }],
  ])('%s', (_name, ext, expected) => {
    expect(readBotExt(ext)).toEqual(expected);
  });

  it('the role the chatbot puts on its replies is "ai"', () => {
    expect(KB_BOT_ROLE).toBe('ai');
  });
});

describe('parseSendReply: the message answered', () => {
  const ack = '添加到知识库(sales)成功，请等待系统处理。';
  it.each<[string, string, string, boolean]>([
    ['the same ID', '{"ai": {"request_msg_id": 7}}', '7', true],
    ['asked with leading zeros', '{"ai": {"request_msg_id": 7}}', '007', true],
    ['answered with leading zeros', '{"ai": {"request_msg_id": "007"}}', '7', true],
    ['another ID', '{"ai": {"request_msg_id": 70}}', '7', false],
    ['no ID', '{"ai": {"role": "ai"}}', '7', false],
  ])('%s', (_name, ext, asked, answers) => {
    expect(parseSendReply({ content: ack, ext }, asked)).toEqual(answers ? { kind: 'ack', kbName: 'sales', text: ack } : undefined);
  });
});

describe('classifySendReply: near misses are other answers', () => {
  const several = "上传文件成功， 文件ID:123 。\n您绑定了多个知识库['a'], 可以设置默认知识库来自动添加文档到知识库,\n命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>";
  const links = "您绑定了多个知识库['a']，请设置默认知识库名称， 命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>";
  const unsupported = "对不起，暂时只支持['.md']格式的知识库";
  const noPermission = '知识库不存在，或者你（ID：7）没有这个知识库的权限';
  const ack = '添加到知识库(sales)成功，请等待系统处理。';
  it.each([ack, several, links, unsupported, noPermission, 'service is expired', '您发消息速度过快，请稍后再试。', '对不起，我无法处理文件消息'])('%j with a word before or after', (text) => {
    expect(classifySendReply({ content: text }).kind).not.toBe('other');
    expect(classifySendReply({ content: `> ${text}` })).toEqual({ kind: 'other', text: `> ${text}` });
    expect(classifySendReply({ content: `${text} ok` })).toEqual({ kind: 'other', text: `${text} ok` });
  });

  it('reads a file ID of several digits, and a list it cannot read as no names', () => {
    expect(classifySendReply({ content: several })).toEqual({ kind: 'refused', reason: 'several_kbs', text: several, fileId: '123', kbNames: ['a'] });
    const bad = (text: string) => text.replace("['a']", '[1]').replace("['.md']", '[1]');
    expect(classifySendReply({ content: bad(several) })).toMatchObject({ reason: 'several_kbs', kbNames: [] });
    expect(classifySendReply({ content: bad(links) })).toMatchObject({ reason: 'several_kbs', kbNames: [] });
    expect(classifySendReply({ content: bad(unsupported) })).toMatchObject({ reason: 'unsupported_format', extensions: [] });
  });

  it.each([
    ['service_is_expired', 'service_expired'],
    ['deduct_failed', 'deduct_failed'],
    ['rate_limit_reached', 'round_limit'],
    ['internal_error', 'internal_error'],
  ])('the error code %s decides, whatever the text', (code, reason) => {
    expect(classifySendReply(withCode('per-app text', code))).toEqual({ kind: 'refused', reason, text: 'per-app text' });
    expect(parseCommandFailure(withCode('per-app text', code))).toEqual({ ok: false, reason, text: 'per-app text' });
  });
});

describe('command replies: near misses', () => {
  it('the shared failures, by text alone and by full value', () => {
    expect(parseCommandFailure({ content: '设置成功' })).toBeUndefined();
    expect(parseCommandFailure({ content: 'service is expired' })).toEqual({ ok: false, reason: 'service_expired', text: 'service is expired' });
    expect(parseCommandFailure('您发消息速度过快，请稍后再试。')).toEqual({ ok: false, reason: 'round_limit', text: '您发消息速度过快，请稍后再试。' });
    expect(parseCommandFailure('错误：命令格式不正确。\n可以使用 /help 或者 /+空格 查看命令说明。')).toEqual({ ok: false, reason: 'format_error', text: '错误：命令格式不正确。\n可以使用 /help 或者 /+空格 查看命令说明。' });
    expect(parseCommandFailure('命令执行失败')).toEqual({ ok: false, reason: 'command_failed', text: '命令执行失败' });
    expect(parseCommandFailure(withCode('other', ''))).toBeUndefined();
  });

  it('every command reply takes the shared failures first', () => {
    const failed = { ok: false, reason: 'command_failed', text: '命令执行失败' };
    for (const parse of [parseStatusReply, parseMetadataGetReply, parseMetadataSetReply, parseDeleteReply, parseModeAutoReply, parseInfoReply]) expect(parse('命令执行失败')).toEqual(failed);
  });

  it.each<[string, string]>([
    ['a word before the head', 'x文档总数:1\n最近文档列表为:\n文档ID:1-1, 文件名:a, 状态:finish, 进度：1/1'],
    ['a word before the first line', '文档总数:1\n最近文档列表为:\nx 文档ID:1-1, 文件名:a, 状态:finish, 进度：1/1'],
    ['a word after a line', '文档总数:1\n最近文档列表为:\n文档ID:1-1, 文件名:a, 状态:finish, 进度：1/1 x'],
  ])('status: %s', (_name, text) => {
    expect(parseStatusReply(text)).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['文档metadata为：\n{"n": 3, "b": true, "o": {"a": 1}, "l": [1], "z": null}', { ok: true, metadata: { n: '3', b: 'true', o: '{"a":1}', l: '[1]', z: 'null' } }],
    ['文档metadata为：\nnull', undefined],
    ['文档metadata为：\n[1]', undefined],
    ['文档metadata为：\n"x"', undefined],
    ['文档metadata为：\n3', undefined],
    ['文档metadata为：\n{"a": ', undefined],
    // As long as the prefix (13 characters), but another one.
    ['Metadata is: {}', undefined],
  ])('metadata get %j', (text, expected) => {
    expect(parseMetadataGetReply(text)).toEqual(expected);
  });

  it('metadata set', () => {
    expect(parseMetadataSetReply('文档不存在')).toEqual({ ok: false, reason: 'document_not_found', text: '文档不存在' });
    expect(parseMetadataSetReply('文档metadata设置失败：other')).toEqual({ ok: false, reason: 'failed', text: '文档metadata设置失败：other' });
    expect(parseMetadataSetReply('文档metadata设置失败：doc_id not exist')).toEqual({ ok: false, reason: 'doc_id_not_exist', text: '文档metadata设置失败：doc_id not exist' });
  });

  it.each(['x知识库(sales)不存在', '知识库(sales)不存在x', 'something else'])('delete: %j is no reply', (text) => {
    expect(parseDeleteReply(text)).toBeUndefined();
  });

  it('mode auto', () => {
    const failed = "设置失败：「sales」不是合法知识库名称， 合法值为：['a', 'b']";
    expect(parseModeAutoReply(failed)).toEqual({ ok: false, reason: 'invalid_kb', kbName: 'sales', kbNames: ['a', 'b'], text: failed });
    expect(parseModeAutoReply(`x${failed}`)).toBeUndefined();
    expect(parseModeAutoReply(`${failed}x`)).toBeUndefined();
    expect(parseModeAutoReply(failed.replace("['a', 'b']", '[1]'))).toBeUndefined();
    expect(parseModeAutoReply('something else')).toBeUndefined();
  });

  it('info', () => {
    const line = '知识库名称: sales, 分片大小:350字, 存储空间:1e-05MB';
    expect(parseInfoReply(`当前预设绑定的知识库为：\n${line}\n知识库名称: b, 分片大小:1字, 存储空间:2e-10MB\n知识库名称: c, 分片大小:1字, 存储空间:3e7MB`)).toEqual({
      ok: true,
      knowledgeBases: [
        { name: 'sales', blockSize: 350, storageMb: 0.00001 },
        { name: 'b', blockSize: 1, storageMb: 2e-10 },
        { name: 'c', blockSize: 1, storageMb: 3e7 },
      ],
    });
    expect(parseInfoReply(`当前预设绑定的知识库为：\nx${line}`)).toBeUndefined();
    expect(parseInfoReply(`当前预设绑定的知识库为：\n${line}x`)).toBeUndefined();
    expect(parseInfoReply(`当前预设绑定的知识库为：\n${line.replace('1e-05', '1ex')}`)).toBeUndefined();
    expect(parseInfoReply(`另一个标题：\n${line}`)).toBeUndefined();
  });

  it('help', () => {
    expect(isCommandHelpReply('something else')).toBe(false);
    expect(isCommandHelpReply({ content: '用法：/command [OPTION] [ARGS]\nx' })).toBe(true);
    expect(parseHelpRefusedReply('x无法执行此命令，用户（ID：6）不是企业知识库管理员。')).toBeUndefined();
    expect(parseHelpRefusedReply('无法执行此命令，用户（ID：6）不是企业知识库管理员。x')).toBeUndefined();
  });
});

describe('completion notices: near misses', () => {
  it.each<[string, unknown]>([
    // The exact success tail is cut off whole, whatever the name holds.
    ['文章（ID：1-1）已加入知识库 a，b，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ', { docId: '1-1', kbName: 'a，b', ok: true }],
    ['x文章（ID：1-1）已加入知识库 sales，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ', undefined],
    // No name before the comma: no notice.
    ['文章（ID：1-1）已加入知识库 ，谢谢', undefined],
    // Another verb than the two the service sends.
    ['文章（ID：1-1）删除知识库 sales失败：exception', undefined],
    // A failure without a knowledge-base name, or without 失败：.
    ['文章（ID：1-1）加入知识库 失败：exception', undefined],
    ['文章（ID：1-1）加入知识库 失败：something new', undefined],
    ['文章（ID：1-1）加入知识库 sales', undefined],
  ])('%s', (text, expected) => {
    expect(parseCompletionNotice(text)).toEqual(expected);
  });

  it('knows the failure reasons of the vendor\'s worker', () => {
    for (const reason of KB_FAILURE_REASONS) expect(isKnownFailureReason(reason)).toBe(true);
    expect(isKnownFailureReason('something new')).toBe(false);
  });
});

describe('parsePythonStringList: edges', () => {
  it.each<[string, string[] | undefined]>([
    ["['\\\\', '\\'', '\\\"', '\\n', '\\r', '\\t', '\\a', '\\b', '\\f', '\\v', '\\0']", ['\\', "'", '"', '\n', '\r', '\t', '\x07', '\b', '\f', '\v', '\0']],
    ["['\\U0001F600', '\\u00e9', '\\x41']", ['\u{1F600}', 'é', 'A']],
    ['[]x', undefined],
    ["['a']x", undefined],
    ["[x', 'x]", undefined],
    ["['abc", undefined],
    ["['a\\xZZ']", undefined],
    ["['a\\x4G']", undefined],
    ["['a\\xG4']", undefined],
    ["['a'x'b']", undefined],
    ["['a\\q']", undefined],
    // An unknown escape is refused even when hex digits follow (only \\x, \\u and \\U take them).
    ["['\\q00000041']", undefined],
  ])('%s', (text, expected) => {
    expect(parsePythonStringList(text)).toEqual(expected);
  });
});
