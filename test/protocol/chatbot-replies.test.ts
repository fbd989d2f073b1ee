/**
 * Golden tests of the client's protocol parsers on the vendor's real texts. Each text is written out here from the
 * vendor's source (blockmessage/lanying-connector, branch `lanying`, file:line beside it), with made-up values in
 * the placeholders: the parsers must read what the real chatbot sends.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { readBotExt } from '../../src/protocol/bot-ext.js';
import {
  bluevectorAddCommand,
  bluevectorDeleteCommand,
  bluevectorInfoCommand,
  bluevectorMetadataGetCommand,
  bluevectorMetadataSetCommand,
  bluevectorModeAutoCommand,
  bluevectorStatusCommand,
} from '../../src/protocol/kb-commands.js';
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
import { parseCompletionNotice } from '../../src/protocol/kb-notices.js';
import { classifySendReply, parseSendReply } from '../../src/protocol/kb-send-replies.js';
import { parsePythonStringList } from '../../src/protocol/python-repr.js';

const MSG = '1152921504606846977';
/** openai_service.py:622-631 + :4398-4400, as Python's json.dumps writes it; request_msg_id above 2^53. */
const replyExt = (text: string, code = '') =>
  `{"ai": {"stream": false, "role": "ai", "result": "error", "error_code": "${code}", "error_message": ${JSON.stringify(text)}, "request_msg_id": ${MSG}}}`;

describe('completion notices (openai_service.py:103,105)', () => {
  it.each([
    ['文章（ID：12-7）已加入知识库 sales，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ', { docId: '12-7', kbName: 'sales', ok: true }],
    ['文章（ID：12-8）已加入知识库 产品 手册，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ', { docId: '12-8', kbName: '产品 手册', ok: true }],
    ['文章（ID：12-9）加入知识库 sales失败：download failed', { docId: '12-9', kbName: 'sales', ok: false, reason: 'download failed' }],
    ['文章（ID：12-10）加入知识库 sales失败：upload embedding file error', { docId: '12-10', kbName: 'sales', ok: false, reason: 'upload embedding file error' }],
    ['文章（ID：12-11）加入知识库 sales失败：download file error', { docId: '12-11', kbName: 'sales', ok: false, reason: 'download file error' }],
    ['文章（ID：12-12）加入知识库 sales失败：storage limit', { docId: '12-12', kbName: 'sales', ok: false, reason: 'storage limit' }],
    ['文章（ID：12-13）加入知识库 sales失败：exception', { docId: '12-13', kbName: 'sales', ok: false, reason: 'exception' }],
    ['文章（ID：12-14）加入知识库 sales失败：bad_authorization', { docId: '12-14', kbName: 'sales', ok: false, reason: 'bad_authorization' }],
    ['文章（ID：12-15）加入知识库 sales失败：no_quota', { docId: '12-15', kbName: 'sales', ok: false, reason: 'no_quota' }],
    ['文章（ID：12-16）加入知识库 sales失败：deduct_failed', { docId: '12-16', kbName: 'sales', ok: false, reason: 'deduct_failed' }],
    // A knowledge-base name holding the separator: the known reason at the end decides.
    ['文章（ID：12-17）加入知识库 a失败：b失败：exception', { docId: '12-17', kbName: 'a失败：b', ok: false, reason: 'exception' }],
    // A reason the vendor's code never sends is still read.
    ['文章（ID：12-18）加入知识库 sales失败：something new', { docId: '12-18', kbName: 'sales', ok: false, reason: 'something new' }],
    // Should the words after the name change, a success still reads.
    ['文章（ID：12-19）已加入知识库 sales，谢谢', { docId: '12-19', kbName: 'sales', ok: true }],
  ])('%s', (text, expected) => {
    expect(parseCompletionNotice(text)).toEqual(expected);
  });

  it.each([
    '添加到知识库(sales)成功，请等待系统处理。',
    '文章(ID:9-1)已加入知识库 kb',
    '文章（ID：12-7）已加入知识库 sales',
    '文档总数:0\n最近文档列表为:\n',
    '',
  ])('is not a notice: %j', (text) => {
    expect(parseCompletionNotice(text)).toBeUndefined();
  });
});

describe('the answer to a document message', () => {
  it('matches its message by ext.ai.request_msg_id, read without loss (a 64-bit ID)', () => {
    const ack = { content: '添加到知识库(sales)成功，请等待系统处理。', ext: replyExt('添加到知识库(sales)成功，请等待系统处理。') };
    expect(parseSendReply(ack, MSG)).toEqual({ kind: 'ack', kbName: 'sales', text: ack.content });
    // 2^60 + 1 and 2^60 are the same JavaScript number: only exact reading tells them apart.
    expect(parseSendReply(ack, '1152921504606846976')).toBeUndefined();
    expect(readBotExt(ack.ext)).toEqual({ role: 'ai', requestMsgId: MSG, errorCode: '', result: 'error' });
    // A notice and a read receipt answer no request.
    expect(parseSendReply({ content: '文章（ID：1-1）已加入知识库 sales，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ', ext: '{"ai": {"role": "ai"}}' }, MSG)).toBeUndefined();
    expect(parseSendReply({ content: '', ext: '' }, MSG)).toBeUndefined();
    // request_msg_id as a JSON string of digits is accepted too.
    expect(parseSendReply({ content: ack.content, ext: `{"ai": {"request_msg_id": "${MSG}"}}` }, MSG)?.kind).toBe('ack');
  });

  it.each([
    // openai_service.py:2561
    ['service is expired', 'service_is_expired', { reason: 'service_expired' }],
    // :2552 with lanying_config.py:99 (the text is per app: the error code decides)
    ['抱歉，当前应用已欠费，请联系管理员或者稍后重试。', 'deduct_failed', { reason: 'deduct_failed' }],
    ['our own arrears text', 'deduct_failed', { reason: 'deduct_failed' }],
    // :519
    ['您发消息速度过快，请稍后再试。', 'rate_limit_reached', { reason: 'round_limit' }],
    // :582-589 with lanying_config.py:79
    ['抱歉，因为某些无法说明的原因，我暂时无法回答你的问题。', 'internal_error', { reason: 'internal_error' }],
    // :3161
    [
      "上传文件成功， 文件ID:3 。\n您绑定了多个知识库['sales', 'support'], 可以设置默认知识库来自动添加文档到知识库,\n命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>",
      '',
      { reason: 'several_kbs', fileId: '3', kbNames: ['sales', 'support'] },
    ],
    // :3220
    ["您绑定了多个知识库['sales', \"it's\"]，请设置默认知识库名称， 命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>", '', { reason: 'several_kbs', kbNames: ['sales', "it's"] }],
    // :3049
    [
      "对不起，暂时只支持['.html', '.htm', '.csv', '.txt', '.md', '.pdf', '.docx', '.doc', '.xlsx', '.xls', '.pptx', '.zip']格式的知识库",
      '',
      { reason: 'unsupported_format', extensions: ['.html', '.htm', '.csv', '.txt', '.md', '.pdf', '.docx', '.doc', '.xlsx', '.xls', '.pptx', '.zip'] },
    ],
    // :3051
    ['对不起，我无法处理文件消息', '', { reason: 'file_refused' }],
    // :3061
    ['知识库不存在，或者你（ID：2302128600002）没有这个知识库的权限', '', { reason: 'no_permission' }],
  ])('refusal %j', (text, code, expected) => {
    const reply = parseSendReply({ content: text, ext: replyExt(text, code) }, MSG);
    expect(reply).toEqual({ kind: 'refused', text, ...expected });
    // Without the ext, the text alone tells the same (except the per-app texts).
    if (text !== 'our own arrears text' && !text.startsWith('抱歉，')) expect(classifySendReply({ content: text })).toEqual(reply);
  });

  it('reads a chat answer as other', () => {
    expect(classifySendReply({ content: '你好，有什么可以帮你？', ext: replyExt('你好，有什么可以帮你？') })).toEqual({ kind: 'other', text: '你好，有什么可以帮你？' });
  });
});

describe('/bluevector status (openai_service.py:2847-2857)', () => {
  it('reads the real reply: ASCII colons and commas, 进度：, -/- where nothing is counted, oldest first', () => {
    const text = [
      '文档总数:23',
      '最近文档列表为:',
      '文档ID:6-4, 文件名:https://a.example/x.html, 状态:finish, 进度：12/12',
      '文档ID:6-5, 文件名:guide, v2, 状态:done.md, 状态:processing, 进度：-/7',
      '文档ID:6-6, 文件名:line one',
      'line two.txt, 状态:wait, 进度：-/-',
      '文档ID:6-7, 文件名:图片.png, 状态:error, 进度：-/-',
    ].join('\n');
    expect(parseStatusReply(text)).toEqual({
      ok: true,
      totalDocuments: 23,
      documents: [
        { docId: '6-4', filename: 'https://a.example/x.html', status: 'finish', progressFinished: 12, progressTotal: 12 },
        { docId: '6-5', filename: 'guide, v2, 状态:done.md', status: 'processing', progressFinished: undefined, progressTotal: 7 },
        { docId: '6-6', filename: 'line one\nline two.txt', status: 'wait', progressFinished: undefined, progressTotal: undefined },
        { docId: '6-7', filename: '图片.png', status: 'error', progressFinished: undefined, progressTotal: undefined },
      ],
    });
  });

  it('reads an empty knowledge base, a refusal, and nothing else', () => {
    expect(parseStatusReply('文档总数:0\n最近文档列表为:\n')).toEqual({ ok: true, totalDocuments: 0, documents: [] });
    expect(parseStatusReply('知识库不存在，或者你（ID：7）没有这个知识库的权限')).toEqual({ ok: false, reason: 'no_permission', text: '知识库不存在，或者你（ID：7）没有这个知识库的权限' });
    expect(parseStatusReply({ content: 'service is expired', ext: replyExt('service is expired', 'service_is_expired') })).toMatchObject({ ok: false, reason: 'service_expired' });
    // The sandbox's old, invented format is no status reply.
    expect(parseStatusReply('知识库 kb 共有 1 个文档，最近 1 个文档如下：\n文档ID：1-1，文件名：a，状态：finish，进度：1/1')).toBeUndefined();
    expect(parseStatusReply('文档总数:1\n最近文档列表为:\n文档ID：1-1，文件名：a，状态：finish，进度：1/1')).toBeUndefined();
  });
});

describe('the other command replies', () => {
  it('help refused to someone who is no app knowledge-base admin (:2887)', () => {
    expect(parseHelpRefusedReply('无法执行此命令，用户（ID：6802128600003）不是企业知识库管理员。')).toBe(6802128600003);
    expect(parseHelpRefusedReply('无法执行此命令。')).toBeUndefined();
  });

  it('metadata get (:2813-2827)', () => {
    expect(parseMetadataGetReply('文档metadata为：\n{"title": "入门", "n": "3"}')).toEqual({ ok: true, metadata: { title: '入门', n: '3' } });
    expect(parseMetadataGetReply('文档metadata为：\n{}')).toEqual({ ok: true, metadata: {} });
    expect(parseMetadataGetReply('文档不存在')).toMatchObject({ ok: false, reason: 'document_not_found' });
    expect(parseMetadataGetReply('文档metadata获取失败：doc_id not exist')).toMatchObject({ ok: false, reason: 'doc_id_not_exist' });
    expect(parseMetadataGetReply('文档metadata获取失败：embedding name not exist')).toMatchObject({ ok: false, reason: 'failed' });
    expect(parseMetadataGetReply('知识库不存在，或者你（ID：7）没有这个知识库的权限')).toMatchObject({ ok: false, reason: 'no_permission' });
    expect(parseMetadataGetReply('{"title":"Guide"}')).toBeUndefined();
  });

  it('metadata set (:2829-2845), delete (:2793-2808), mode auto (:2749-2764)', () => {
    expect(parseMetadataSetReply('文档metadata设置成功')).toEqual({ ok: true });
    expect(parseMetadataSetReply('文档metadata设置失败：doc_id not exist')).toMatchObject({ ok: false, reason: 'doc_id_not_exist' });
    expect(parseMetadataSetReply('设置成功')).toBeUndefined();
    expect(parseDeleteReply('删除成功，请等待系统处理。')).toEqual({ ok: true });
    expect(parseDeleteReply('文档ID(doc_id)不存在')).toMatchObject({ ok: false, reason: 'doc_not_found' });
    expect(parseDeleteReply('知识库(sales)不存在')).toMatchObject({ ok: false, reason: 'kb_not_found' });
    expect(parseDeleteReply('知识库不存在，或者你（ID：7）没有这个知识库的权限')).toMatchObject({ ok: false, reason: 'no_permission' });
    expect(parseModeAutoReply('设置成功')).toEqual({ ok: true });
    expect(parseModeAutoReply("设置失败：「x」不是合法知识库名称， 合法值为：['sales', 'support']")).toMatchObject({ ok: false, reason: 'invalid_kb', kbName: 'x', kbNames: ['sales', 'support'] });
    expect(parseModeAutoReply('设置失败：「x」不是合法知识库名称， 合法值为：[]')).toMatchObject({ kbNames: [] });
  });

  it('info (:2862-2878), help (lanying_command.py:134-163), the format error (:2889-2890), a failed command (:2746)', () => {
    expect(parseInfoReply('当前预设未绑定知识库')).toEqual({ ok: true, knowledgeBases: [] });
    expect(parseInfoReply('当前预设绑定的知识库为：\n知识库名称: sales, 分片大小:350字, 存储空间:0.0MB\n知识库名称: 产品, 分片大小:500字, 存储空间:12.346MB')).toEqual({
      ok: true,
      knowledgeBases: [
        { name: 'sales', blockSize: 350, storageMb: 0 },
        { name: '产品', blockSize: 500, storageMb: 12.346 },
      ],
    });
    expect(isCommandHelpReply('用法：/command [OPTION] [ARGS]\n说明：使用命令操作企业知识库或限定参考知识范围。')).toBe(true);
    expect(parseCommandFailure('错误：命令格式不正确。\n可以使用 /help 或者 /+空格 查看命令说明。')).toMatchObject({ reason: 'format_error' });
    expect(parseCommandFailure('命令执行失败')).toMatchObject({ reason: 'command_failed' });
    expect(parseCommandFailure('设置成功')).toBeUndefined();
  });
});

describe('command texts', () => {
  it('builds what lanying_command.py parses', () => {
    expect(bluevectorInfoCommand()).toBe('/bluevector info');
    expect(bluevectorStatusCommand('sales')).toBe('/bluevector status sales');
    expect(bluevectorDeleteCommand('sales', '6-4')).toBe('/bluevector delete sales 6-4');
    expect(bluevectorMetadataGetCommand('6-4')).toBe('/bluevector metadata get 6-4');
    expect(bluevectorMetadataSetCommand('6-4', 'title', 'Getting started')).toBe('/bluevector metadata set 6-4 title Getting started');
    expect(bluevectorModeAutoCommand('sales')).toBe('/bluevector mode auto sales');
    expect(bluevectorAddCommand('sales', '3')).toBe('/bluevector add sales 3');
  });

  it('refuses values the command parser would split or change', () => {
    expect(() => bluevectorStatusCommand('my kb')).toThrow(ValidationError);
    expect(() => bluevectorDeleteCommand('kb', '6-4\n')).toThrow(ValidationError);
    expect(() => bluevectorMetadataGetCommand('')).toThrow(ValidationError);
    expect(() => bluevectorMetadataSetCommand('6-4', 'ti tle', 'x')).toThrow(ValidationError);
    for (const value of ['a  b', 'a\tb', 'a\nb', ' a', 'a ']) expect(() => bluevectorMetadataSetCommand('6-4', 't', value)).toThrow(ValidationError);
  });
});

describe('Python list literals', () => {
  it.each([
    ['[]', []],
    ["['a']", ['a']],
    ["['a', 'b c', \"it's\", 'say \"hi\"', 'back\\\\slash', 'tab\\there', '\\x07', '\\u2028']", ['a', 'b c', "it's", 'say "hi"', 'back\\slash', 'tab\there', '\x07', '\u2028']],
    ["['中文']", ['中文']],
  ])('%s', (text, expected) => {
    expect(parsePythonStringList(text)).toEqual(expected);
  });

  it.each(['', '[', "['a'", "['a' 'b']", "['a',]x", '[1]'])('refuses %j', (text) => {
    expect(parsePythonStringList(text)).toBeUndefined();
  });
});
