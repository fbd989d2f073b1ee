/**
 * The sandbox's own copy of every vendor text and rule it reproduces, written from the vendor's public sources.
 * It imports nothing from the client (`src/api/`, `src/protocol/`): a wrong constant must not be wrong in both.
 *
 * Sources ("file:line"):
 * - `C:` = `blockmessage/lanying-connector`, branch `lanying` (commit 230810c3), the chatbot's own service;
 * - `D:` = `maxim-top/im.gitbook`, `zh-hans/quick-start/server-api-quick-start.md` (the quick start) and
 *   `zh-hans/reference/server-api/swagger/api-docs.json` (swagger).
 */
import { pyJsonDumps, pyRepr, pyFloatRepr } from './python-format.js';

// ---------------------------------------------------------------------------------------------------------------
// The API's error table. D: server-api-quick-start.md:575-630 ("错误码说明"); 401 from C: lanying_connector.py:141;
// 402 "Operation rejected" from C: lanying_file_storage.py:101.

export const API_ERROR_TEXTS: Readonly<Record<number, string>> = Object.freeze({
  200: 'success',
  401: 'bad authorization',
  402: 'Operation rejected',
  10000: '用户不存在',
  10001: '验证码不正确',
  10002: '请求参数不正确',
  10003: 'header中缺少access-token参数',
  10004: '用户已存在',
  10005: '用户已在好友列表',
  10006: '用户在黑名单列表',
  10007: '好友申请不存在或已过期',
  10008: 'header中access-token无效',
  10009: 'oss异常',
  10010: '用户无权限',
  10011: 'user_id已绑定',
  10012: '用户拒绝好友申请',
  12001: '上传推送图片到小米平台失败',
  12002: '推送图片文件大小需小于1M',
  12003: '上传推送图片到OPPO平台失败',
  12004: '推送的图片地址无法下载',
  12005: '推送目标列表的长度不能超过500',
  12006: '没有开通推送功能',
  20000: '服务器数据库异常',
  20001: '群组不存在',
  20002: '用户不是群成员',
  20003: 'msg_push_mode值不合法',
  20004: '群主不能直接离开群',
  20005: '转让群异常：被转让人非群成员',
  20006: '群组处于修复模式',
  20007: 'App群数量超限',
  20008: '用户创建的群数量超限',
  20009: '用户加入的群数量超限',
  20010: '群人数超限',
  20011: '操作需要群成员权限',
  20012: '操作需要群管理员权限',
  20013: '操作需要群主权限',
  20014: '入群申请已过期或已处理',
  20015: '入群邀请已过期或已处理',
  20016: '用户被踢出群次数超限，不能再加入群',
  20017: '用户已经是群成员',
  20018: '用户在群黑名单列表',
  20020: '群公告不存在',
  20021: '群公告被管理员禁用',
  20022: '群共享文件不存在',
  20023: '无权限操作群共享文件',
  20024: '群邀请二维码不合法',
  20025: '群邀请二维码已过期',
  30021: '蓝莺IM License无效',
  30022: '蓝莺IM License已过期',
  30023: '超出蓝莺IM License限制',
  40000: 'app_id不存在',
});

/** The table's text for a code. The real `message` texts are not documented; the sandbox uses the table's. */
export function describeApiCode(code: number): string {
  return API_ERROR_TEXTS[code] ?? 'unknown error';
}

// ---------------------------------------------------------------------------------------------------------------
// Usernames. D: api-docs.json:15579 (UserRegisterRequest.username):
//   ^(?!mta|maxim)[a-zA-Z0-9_一-龥]*[a-zA-Z_一-龥]+[a-zA-Z0-9_一-龥]*   (a Java @Pattern: the whole value must match)
export const USERNAME_PATTERN = /^(?!mta|maxim)[a-zA-Z0-9_\u4e00-\u9fa5]*[a-zA-Z_\u4e00-\u9fa5]+[a-zA-Z0-9_\u4e00-\u9fa5]*$/;

// ---------------------------------------------------------------------------------------------------------------
// Knowledge-base files.

/** C: lanying_embedding.py:1784-1785 `allow_exts()`, with the dot, in order. */
export const ALLOW_EXTS: readonly string[] = Object.freeze(['.html', '.htm', '.csv', '.txt', '.md', '.pdf', '.docx', '.doc', '.xlsx', '.xls', '.pptx']);
/** C: services/openai_service.py:3044-3045: a file message may also be a zip. */
export const FILE_MESSAGE_EXTS: readonly string[] = Object.freeze([...ALLOW_EXTS, '.zip']);
/** C: lanying_file_storage.py:15 `FILE_STORAGE_MAX_UPLOAD_FILE_SIZE`; refused when larger (:66,79). */
export const DOWNLOAD_MAX_BYTES = 52_428_800;
/** C: lanying_embedding.py:2875 (read back in `bluevector_info`): a knowledge base's default block size. */
export const DEFAULT_MAX_BLOCK_SIZE = 350;

/**
 * C: lanying_embedding.py:1787-1794 `parse_file_ext`, `is_file_url`: a name that is a URL is `.html`; otherwise Python's
 * `os.path.splitext(name)[1].lower()` (leading dots of the last segment start no extension; "/" separates).
 */
export function parseFileExt(filename: string): string {
  if (filename.startsWith('http://') || filename.startsWith('https://')) return '.html';
  const base = filename.slice(filename.lastIndexOf('/') + 1).replace(/^\.+/, '');
  const dot = base.lastIndexOf('.');
  return dot >= 0 ? base.slice(dot).toLowerCase() : '';
}

// ---------------------------------------------------------------------------------------------------------------
// The chatbot's replies. C: services/openai_service.py unless noted.

/** :3142,3158,3207,3218 */
export const ackText = (kb: string) => `添加到知识库(${kb})成功，请等待系统处理。`;
/** :103 */
export const successNoticeText = (docId: string, kb: string) => `文章（ID：${docId}）已加入知识库 ${kb}，有用的知识又增加了，谢谢您 ♪(･ω･)ﾉ`;
/** :105 */
export const failureNoticeText = (docId: string, kb: string, message: string) => `文章（ID：${docId}）加入知识库 ${kb}失败：${message}`;
/** :3049 (`allow_exts` plus `.zip`, printed as a Python list) */
export const unsupportedFormatText = () => `对不起，暂时只支持${pyRepr(FILE_MESSAGE_EXTS)}格式的知识库`;
/** :3051 */
export const FILE_REFUSED_TEXT = '对不起，我无法处理文件消息';
/** :3061 */
export const noPermissionText = (userId: number) => `知识库不存在，或者你（ID：${userId}）没有这个知识库的权限`;
/** :3161 (a file; it is kept under a per-user file ID for `/bluevector add`, :3031-3035) */
export const severalKbsFileText = (fileId: number, kbs: readonly string[]) =>
  `上传文件成功， 文件ID:${fileId} 。\n您绑定了多个知识库${pyRepr(kbs)}, 可以设置默认知识库来自动添加文档到知识库,\n命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>`;
/** :3220 (a text of URLs; they are dropped) */
export const severalKbsLinksText = (kbs: readonly string[]) => `您绑定了多个知识库${pyRepr(kbs)}，请设置默认知识库名称， 命令格式为：/bluevector mode auto <KNOWLEDGE_BASE_NAME>`;
/** :2555-2562 `check_product_id` */
export const SERVICE_EXPIRED = { code: 'service_is_expired', text: 'service is expired' } as const;
/** :2550-2553 `check_message_deduct_failed`; the text is per app, C: lanying_config.py:97-100 gives the default. */
export const DEDUCT_FAILED = { code: 'deduct_failed', text: '抱歉，当前应用已欠费，请联系管理员或者稍后重试。' } as const;
/** :514-522: the third message in a row that repeats a text the chatbot sent gets this; later ones get nothing. */
export const ROUND_LIMIT = { code: 'rate_limit_reached', text: '您发消息速度过快，请稍后再试。', limit: 3 } as const;
/** :4354-4382: texts the chatbot sent are remembered, and the round counter kept, for 300 s. */
export const AI_MESSAGE_MEMORY_MS = 300_000;
/** :694,706 and :698,710 */
export const AUDIO_REFUSED_TEXT = '对不起，我无法处理语音消息。';
export const IMAGE_REFUSED_TEXT = '对不起，我无法处理图片消息。';
/** :582-589: `handle_chat_message` raised (e.g. a file message without `dName`); text per app, default C: lanying_config.py:77-79. */
export const INTERNAL_ERROR = { code: 'internal_error', text: '抱歉，因为某些无法说明的原因，我暂时无法回答你的问题。' } as const;
/** :3031-3035 `save_attachment`: a file kept for `/bluevector add` expires after 86400 s. */
export const SAVED_FILE_TTL_MS = 86_400_000;
/** :2889-2890 `bluevector_error` */
export const FORMAT_ERROR_TEXT = '错误：命令格式不正确。\n可以使用 /help 或者 /+空格 查看命令说明。';
/** :2887 `bluevector_help`, for a user who is not an app knowledge-base admin */
export const helpRefusedText = (userId: number) => `无法执行此命令，用户（ID：${userId}）不是企业知识库管理员。`;
/** :2762,2764 `bluevector_mode` */
export const MODE_AUTO_OK_TEXT = '设置成功';
export const modeAutoFailedText = (kb: string, kbs: readonly string[]) => `设置失败：「${kb}」不是合法知识库名称， 合法值为：${pyRepr(kbs)}`;
/** :2786,2788 `bluevector_add` */
export const ADD_OK_TEXT = '添加成功，请等待系统处理。';
export const addFileNotFoundText = (fileId: string) => `文件ID(${fileId})不存在`;
/** :2802,2806,2808 `bluevector_delete`; `doc_id` is literal, never filled in */
export const kbNotFoundText = (kb: string) => `知识库(${kb})不存在`;
export const DOC_ID_NOT_FOUND_TEXT = '文档ID(doc_id)不存在';
export const DELETE_OK_TEXT = '删除成功，请等待系统处理。';
/** :2818,2834 */
export const DOCUMENT_NOT_FOUND_TEXT = '文档不存在';
/** :2825 with C: lanying_embedding.py:1608 (`doc_id not exist`) */
export const metadataGetFailedText = (message: string) => `文档metadata获取失败：${message}`;
export const DOC_ID_NOT_EXIST = 'doc_id not exist';
/** :2827: `json.dumps(metadata, ensure_ascii=False)` */
export const metadataGetText = (metadata: Record<string, string>) => `文档metadata为：\n${pyJsonDumps(metadata)}`;
/** :2841,2845 */
export const metadataSetFailedText = (message: string) => `文档metadata设置失败：${message}`;
export const METADATA_SET_OK_TEXT = '文档metadata设置成功';

/** :2847-2857 `bluevector_status`: one line per document of the last 20, oldest first. */
export function statusText(total: number, lines: readonly { docId: string; filename: string; status: string; progressFinish?: number; progressTotal?: number }[]): string {
  const rendered = lines.map(
    (d) => `文档ID:${d.docId}, 文件名:${d.filename}, 状态:${d.status}, 进度：${d.progressFinish ?? '-'}/${d.progressTotal ?? '-'}`,
  );
  return `文档总数:${total}\n最近文档列表为:\n${rendered.join('\n')}`;
}
/** :2847-2857: `get_embedding_doc_info_list(app_id, name, -20, -1)` */
export const STATUS_LIST_LIMIT = 20;

/** :2862-2878 `bluevector_info_by_preset` */
export const INFO_NONE_TEXT = '当前预设未绑定知识库';
export function infoText(kbs: readonly { name: string; blockSize: number; storageBytes: number }[]): string {
  if (kbs.length === 0) return INFO_NONE_TEXT;
  const lines = kbs.map((kb) => `知识库名称: ${kb.name}, 分片大小:${kb.blockSize}字, 存储空间:${pyFloatRepr(Math.round((kb.storageBytes / 1024 / 1024) * 1000) / 1000)}MB`);
  return ['当前预设绑定的知识库为：', ...lines].join('\n');
}

/**
 * C: lanying_command.py:134-169 `pretty_help` (the trailing spaces of lines 2, 3, 4 and 6 are the vendor's). The
 * preset lines come from the app's presets (:70-109); the sandbox has the default preset only, without a
 * description.
 */
export function helpText(): string {
  return [
    '用法：/command [OPTION] [ARGS]',
    '说明：使用命令操作企业知识库或限定参考知识范围。',
    '',
    '可用命令如下:',
    '1. 查询当前预设绑定的知识库信息：/bluevector info',
    '2. 查看知识库状态及详情: /bluevector status [KNOWLEDGE_BASE_NAME] ',
    '3. 添加文件到知识库: /bluevector add [KNOWLEDGE_BASE_NAME] [FILE_ID] ',
    '4. 从知识库中删除文档: /bluevector delete [KNOWLEDGE_BASE_NAME] [DOC_ID] ',
    '5. 限定AI指令参考范围为文档: /on doc [DOC_ID] [AI_MESSAGE]',
    '6. 限定AI指令参考文档全文: /on fulldoc [DOC_ID] [AI_MESSAGE] ',
    '7. 设置默认知识库： /bluevector mode auto [KNOWLEDGE_BASE_NAME]',
    '8. 查询文档metadata: /bluevector metadata get [DOC_ID]',
    '9. 设置文档metadata: /bluevector metadata set [DOC_ID] [FIELD] [VALUE]',
    '',
    '发送消息可以指定AI预设：',
    '用法：/preset [AI_MESSAGE]',
    '说明：指示AI将会根据特定预设来回答问题。',
    '',
    '命令也支持指定预设：',
    '用法：/[preset] command [OPTION] [ARGS]',
    '说明：指示AI使用特定预设执行命令。',
    '',
    '如果不指定预设，相当于使用默认预设：',
    '即 /bluevector [OPTION] [ARGS] 相当于执行 /default bluevector [OPTION] [ARGS]',
    '',
    '当前可用预设如下：',
    '/default：默认预设，也可使用别名 /bluebird 或 /bb 代替',
    '',
    '通过 /help 或者 /+空格 查看本说明。',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// The chatbot's messages: ext and config. C: services/openai_service.py:622-631 (a reply's ext), :4391-4400
// (`request_msg_id` added), :103,105 (a notice's ext); C: lanying_connector.py:561-577 (`json.dumps(..,
// ensure_ascii=False)`, the `config` with `antispam_prompt`); C: lanying_config.py:108-111 (its default text).

export const ANTISPAM_PROMPT = '对不起，因为系统设定的原因，这个问题我无法回答，请您谅解。';
export const BOT_ROLE = 'ai';

/** The `config` string of every message the chatbot sends. */
export const botConfigString = () => pyJsonDumps({ antispam_prompt: ANTISPAM_PROMPT });

/**
 * The `ext` of a direct reply: `{"ai": {"stream": false, "role": "ai", "result": "error", "error_code": …,
 * "error_message": …, "request_msg_id": …}}`. `result` is "error" on every non-LLM reply, as the vendor sets it.
 * `request_msg_id` is written as an integer (the callback's `msgId`; whether it is a number or a string there is
 * not known).
 */
export function replyExtString(text: string, requestMsgId: string, errorCode = '', errorMessage = ''): string {
  return pyJsonDumps({
    ai: { stream: false, role: BOT_ROLE, result: 'error', error_code: errorCode, error_message: errorMessage === '' ? text : errorMessage, request_msg_id: BigInt(requestMsgId) },
  });
}

/** The `ext` of a completion notice: `{"ai": {"role": "ai"}}`. */
export const noticeExtString = () => pyJsonDumps({ ai: { role: BOT_ROLE } });

/** Document failure reasons (the document's `reason`) and the notice message each sends. C: lanying_tasks.py. */
export const DOCUMENT_FAILURES = Object.freeze({
  /** :64-75 the download of the file or URL failed: the document is listed, `error`/`download_failed`. */
  download_failed: { reason: 'download_failed', notice: 'download failed', listed: true },
  /** :129-134 the copy to the worker's storage failed: the document is never listed. */
  upload_error: { reason: undefined, notice: 'upload embedding file error', listed: false },
  /** :336-345 the worker could not read its copy: `error`/`download_error`. */
  download_error: { reason: 'download_error', notice: 'download file error', listed: true },
  /** :352-361 the app's storage quota is used up: `error`/`storage_limit`. */
  storage_limit: { reason: 'storage_limit', notice: 'storage limit', listed: true },
  /** :389-405 processing raised: `error`/`exception` (a file that cannot be parsed). */
  exception: { reason: 'exception', notice: 'exception', listed: true },
  /** :392-394 processing raised one of these three, which are kept as the reason. */
  bad_authorization: { reason: 'bad_authorization', notice: 'bad_authorization', listed: true },
  no_quota: { reason: 'no_quota', notice: 'no_quota', listed: true },
  deduct_failed: { reason: 'deduct_failed', notice: 'deduct_failed', listed: true },
} as const);

