import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { Agent } from 'undici';
import { ValidationError } from '../errors.js';
import { tokenStateOf } from './auth.js';
import { Chatbot } from './chatbot.js';
import type { ResolvedChatbotOptions, ResolvedOptions, SandboxContext } from './context.js';
import { handleControl } from './control.js';
import { ApiFailure, sendJson } from './envelope.js';
import { headerValue, type Exchange } from './exchange.js';
import { applyFault, FaultInjector } from './faults.js';
import { preloadJsonBody } from './json-body.js';
import { Lifecycle } from './lifecycle.js';
import { ObjectStorage } from './object-storage.js';
import { KnowledgeBases } from './knowledge-bases.js';
import { handleOss } from './oss.js';
import { newRequestId, ossErrorXml } from './oss-errors.js';
import { OssSigner } from './oss-signing.js';
import { RequestLog } from './request-log.js';
import { ApiRouter } from './router.js';
import { fileRoutes } from './routes/files.js';
import { groupRoutes } from './routes/groups.js';
import { messageRoutes } from './routes/messages.js';
import { pushRoutes } from './routes/push.js';
import { rosterRoutes } from './routes/rosters.js';
import { registerUser, userRoutes } from './routes/users.js';
import { Site, SITE_PREFIX } from './site.js';
import { buildState } from './state.js';
import { ID_BASE, KB_PREFIX, SandboxStore } from './store.js';
import type { FaultRule, Sandbox, SandboxConfigSnippet, SandboxKnowledgeBase, SandboxLimits, SandboxOptions, SandboxState, SitePage } from './types.js';
import { DEDUCT_FAILED, DOWNLOAD_MAX_BYTES } from './vendor-texts.js';

/** The bucket every upload goes to. */
export const SANDBOX_BUCKET = 'sandbox-chat';

function positiveInt(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new ValidationError(name, `must be an integer of at least ${min}`);
  return value;
}

/** The defaults of the limits the vendor does not document (see `SandboxLimits`). */
export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  usernameMaxLength: 64,
  batchRegisterMax: 100,
  messageTargetsMax: 1000,
  messageContentMaxChars: 65_536,
  nickNameMaxChars: 64,
  profileFieldMaxChars: 4096,
  groupNameMaxChars: 128,
  groupDescriptionMaxChars: 1024,
  groupCapacity: 2000,
  addRosterMax: 100,
  conversationPageMax: 100,
  jsonBodyMaxBytes: 1024 * 1024,
});

function resolveLimits(limits: Partial<SandboxLimits> = {}): SandboxLimits {
  const resolved = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(limits) as [keyof SandboxLimits, number | undefined][]) {
    if (!(key in DEFAULT_LIMITS)) throw new ValidationError(`limits.${key}`, `is not a limit (known: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
    resolved[key] = positiveInt(`limits.${key}`, value, DEFAULT_LIMITS[key], 1);
  }
  return resolved;
}

function resolveChatbot(options: SandboxOptions['chatbot'] = {}): ResolvedChatbotOptions {
  const storage = options.storageLimitBytes;
  return {
    serviceExpired: options.serviceExpired ?? false,
    deductFailed: options.deductFailed ?? false,
    deductFailedText: options.deductFailedText ?? DEDUCT_FAILED.text,
    storageLimitBytes: storage === undefined ? undefined : positiveInt('chatbot.storageLimitBytes', storage, 0),
    readReceipts: options.readReceipts ?? true,
    roundLimit: options.roundLimit ?? true,
    strictDownloadSign: options.strictDownloadSign ?? true,
  };
}

function resolveOptions(options: SandboxOptions): ResolvedOptions {
  const kb = options.knowledgeBase ?? {};
  const adminUsernames = kb.adminUsernames ?? ['kb_admin'];
  if (adminUsernames.length === 0) throw new ValidationError('knowledgeBase.adminUsernames', 'must name at least one admin');
  const uploadMethod = options.uploadMethod ?? 'POST';
  if (uploadMethod !== 'POST' && uploadMethod !== 'PUT') throw new ValidationError('uploadMethod', 'must be "POST" or "PUT"');
  for (const field of ['storageDir', 'siteDir'] as const) {
    const value = options[field];
    // Library code never looks at the working directory: the caller resolves relative paths.
    if (value !== undefined && !path.isAbsolute(value)) throw new ValidationError(field, `must be an absolute path (got "${value}")`);
  }
  const port = positiveInt('port', options.port, 0);
  if (port > 65535) throw new ValidationError('port', 'must be at most 65535');
  return {
    host: options.host ?? '127.0.0.1',
    port,
    appId: options.appId ?? 'sandbox-app',
    accessToken: options.accessToken ?? `sbx_${randomBytes(16).toString('hex')}`,
    kbName: kb.name ?? 'sandbox-kb',
    chatbotUsername: kb.chatbotUsername ?? 'kb_bot',
    adminUsernames,
    otherKnowledgeBases: resolveOtherKnowledgeBases(kb.name ?? 'sandbox-kb', kb.otherKnowledgeBases ?? []),
    chatbot: resolveChatbot(options.chatbot),
    limits: resolveLimits(options.limits),
    firstMessageId: resolveFirstMessageId(options.firstMessageId),
    requireContent: options.requireContent ?? false,
    usernamesIgnoreCase: options.usernamesIgnoreCase ?? true,
    pushEnabled: options.pushEnabled ?? true,
    uploadMethod,
    ossMaxBytes: positiveInt('ossMaxBytes', options.ossMaxBytes, 5 * 1024 ** 3),
    policyTtlMs: positiveInt('policyTtlMs', options.policyTtlMs, 60 * 60 * 1000, 1),
    storageDir: options.storageDir,
    ingestionDelayMs: positiveInt('ingestionDelayMs', options.ingestionDelayMs, 30),
    ingestionMaxBytes: positiveInt('ingestionMaxBytes', options.ingestionMaxBytes, DOWNLOAD_MAX_BYTES),
    urlFetchTimeoutMs: positiveInt('urlFetchTimeoutMs', options.urlFetchTimeoutMs, 60_000, 1),
    transactionWindowMs: positiveInt('transactionWindowMs', options.transactionWindowMs, 10 * 60 * 1000),
    siteDir: options.siteDir,
    now: options.now ?? Date.now,
  };
}

function resolveOtherKnowledgeBases(main: string, others: string[]): string[] {
  const seen = new Set([main]);
  others.forEach((name, i) => {
    if (name === '' || /[ \t\n]/.test(name)) throw new ValidationError(`knowledgeBase.otherKnowledgeBases[${i}]`, 'must be a name without spaces (commands name it)');
    if (seen.has(name)) throw new ValidationError(`knowledgeBase.otherKnowledgeBases[${i}]`, `"${name}" is named twice`);
    seen.add(name);
  });
  return others;
}

function resolveFirstMessageId(value: string | undefined): string {
  if (value === undefined) return ID_BASE.message;
  if (!/^[1-9]\d*$/.test(value) || BigInt(value) >= 2n ** 63n) throw new ValidationError('firstMessageId', 'must be a positive 64-bit integer as decimal text');
  return value;
}

/** Registers the chatbot and admin users; a bad or duplicate name is an options error. */
function registerKnowledgeBaseUsers(store: SandboxStore, options: ResolvedOptions): SandboxKnowledgeBase {
  const register = (field: string, username: string) => {
    try {
      return registerUser(store, username, randomBytes(12).toString('hex'), options.limits).user_id;
    } catch (error) {
      if (error instanceof ApiFailure) throw new ValidationError(field, `"${username}": ${error.message}`);
      throw error;
    }
  };
  const chatbotUserId = register('knowledgeBase.chatbotUsername', options.chatbotUsername);
  const adminUserIds = options.adminUsernames.map((name, i) => register(`knowledgeBase.adminUsernames[${i}]`, name));
  return { name: options.kbName, chatbotUserId, adminUserIds };
}

function baseUrl(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
}

/**
 * Starts a local Lanying-compatible server: the API, object storage, the knowledge-base chatbot, a small web site
 * and fault injection. See `lanying-api.md` and `lanying-kb-ingestion.md` for the behaviour it copies.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const resolved = resolveOptions(options);
  const ownsStorage = resolved.storageDir === undefined;
  const root = resolved.storageDir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'lanying-sandbox-')));
  const storage = new ObjectStorage(root);
  await storage.init();

  const store = new SandboxStore(resolved.now, resolved.transactionWindowMs, resolved.firstMessageId, resolved.usernamesIgnoreCase);
  const kb = registerKnowledgeBaseUsers(store, resolved);
  const kbs = new KnowledgeBases([
    { name: kb.name, uuid: KB_PREFIX, adminUserIds: kb.adminUserIds },
    ...resolved.otherKnowledgeBases.map((name, i) => ({ name, uuid: String(BigInt(KB_PREFIX) + BigInt(i + 1)), adminUserIds: kb.adminUserIds })),
  ]);
  const lifecycle = new Lifecycle();
  /** Aborted by every reset: requests waiting out a latency fault are cut off. */
  let resetController = new AbortController();
  const faults = new FaultInjector(options.faults ?? []);
  const log = new RequestLog();
  const site = new Site(resolved.siteDir, resolved.now, lifecycle);
  const dispatcher = new Agent({ keepAliveTimeout: 1000, connections: 16 });
  const ctx: SandboxContext = {
    options: resolved,
    store,
    signer: new OssSigner(SANDBOX_BUCKET),
    lifecycle,
    dispatcher,
    storage,
    site,
    kb,
    kbs,
    url: '',
    // The chatbot is created right below; no message can arrive before the server listens.
    onMessage: (message) => chatbot.onMessage(message),
  };
  const chatbot = new Chatbot(ctx, faults);
  const router = new ApiRouter([...userRoutes, ...rosterRoutes, ...groupRoutes, ...messageRoutes, ...fileRoutes, ...pushRoutes]);

  const state = (): SandboxState =>
    buildState({ appId: resolved.appId, groupCapacity: resolved.limits.groupCapacity, kb, kbs, chatbotPending: chatbot.pending, store, faults: faults.list(), requests: log.entries() });
  const reset = () => {
    resetController.abort();
    resetController = new AbortController();
    chatbot.cancelPending();
    store.resetTraffic();
    kbs.resetTraffic();
    storage.reset();
    log.clear();
  };
  /** API, storage and site requests being handled (control routes excluded). */
  const handling = new Set<Promise<void>>();
  /** Nothing pending: no request being handled, no download, ingestion or notice of the chatbot. */
  const idle = async (timeoutMs = 10_000): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the sandbox is still busy after ${timeoutMs} ms (${handling.size} requests, ${chatbot.pending} chatbot tasks)`)), timeoutMs);
    });
    const settled = async () => {
      while (handling.size > 0 || chatbot.pending > 0) {
        await Promise.allSettled([...handling]);
        await chatbot.idle();
      }
    };
    try {
      await Promise.race([settled(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const control = {
    state,
    faults: () => faults.list(),
    setFaults: (rules: FaultRule[]) => faults.set(rules),
    reset,
    idle,
    setPage: (p: string, page: SitePage) => site.setPage(p, page),
  };

  /** The request being served on each socket: a body cut short is answered on the socket (see clientError). */
  const inFlight = new WeakMap<Socket, Exchange>();
  const sockets = new Set<Socket>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    // Origin-form ("/path?q") is read as a path even when it starts with "//"; absolute-form is parsed as is.
    let url: URL;
    try {
      url = target.startsWith('/') ? new URL(`http://sandbox.invalid${target}`) : new URL(target);
    } catch {
      res.writeHead(400, { 'content-length': '0', connection: 'close' }).end();
      return;
    }
    const ex: Exchange = { req, res, method, url, pathname: url.pathname, log: undefined, abandoned: false };
    inFlight.set(req.socket, ex);
    res.on('close', () => {
      if (inFlight.get(req.socket) === ex) inFlight.delete(req.socket);
    });
    try {
      if (ex.pathname.startsWith('/_sandbox/') && !ex.pathname.startsWith(SITE_PREFIX)) {
        await handleControl(ex, control);
        return;
      }
      const userHeader = headerValue(req, 'user_id');
      const entry = log.start({
        method,
        path: ex.pathname,
        status: null,
        token: tokenStateOf(req, resolved.accessToken, url.searchParams),
        ...(userHeader !== undefined ? { user_id_header: userHeader.slice(0, 32) } : {}),
        at: resolved.now(),
      });
      ex.log = entry;
      const started = performance.now();
      const settle = () => {
        if (res.headersSent && !ex.abandoned) entry.status = res.statusCode;
        entry.duration_ms = Math.round(performance.now() - started);
      };
      res.on('finish', settle);
      res.on('close', () => {
        if (entry.duration_ms === undefined) settle();
      });

      const isApi = !ex.pathname.startsWith(SITE_PREFIX) && !ex.pathname.startsWith('/_oss/');
      if (isApi) await preloadJsonBody(ex, resolved.limits.jsonBodyMaxBytes);
      const rule = faults.pick(method, ex.pathname);
      if (rule && (await applyFault(ex, rule, lifecycle, resetController.signal))) return;
      if (isApi) await router.handle(ex, ctx);
      else if (ex.pathname.startsWith(SITE_PREFIX)) await site.serve(ex);
      else await handleOss(ex, ctx);
    } catch (error) {
      if (lifecycle.closed) {
        res.destroy();
        return;
      }
      sendJson(ex, 500, { code: 500, message: `sandbox internal error: ${(error as Error).message}`, data: null });
    }
  }

  const server = http.createServer((req, res) => {
    const handled = handle(req, res);
    if ((req.url ?? '').startsWith('/_sandbox/') && !(req.url ?? '').startsWith(SITE_PREFIX)) return;
    handling.add(handled);
    void handled.finally(() => handling.delete(handled));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A request whose body ends before its Content-Length (the client half-closed): answered here, on the socket,
  // since the request handler can no longer respond. OSS says IncompleteBody.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const ex = inFlight.get(socket);
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (ex && !ex.res.headersSent) {
      ex.abandoned = true;
      const isOss = ex.pathname.startsWith('/_oss/');
      const message = 'You did not provide the number of bytes specified by the Content-Length HTTP header.';
      const body = isOss ? ossErrorXml('IncompleteBody', message, newRequestId()) : JSON.stringify({ code: 400, message, data: null });
      if (ex.log) ex.log.status = 400;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: ${isOss ? 'application/xml' : 'application/json'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(resolved.port, resolved.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    lifecycle.close();
    await dispatcher.destroy().catch(() => undefined);
    if (ownsStorage) await fsp.rm(root, { recursive: true, force: true });
    throw error;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : resolved.port;
  ctx.url = baseUrl(resolved.host, port);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      lifecycle.close();
      await chatbot.close();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await stopped;
      await dispatcher.destroy().catch(() => undefined);
      if (ownsStorage) await fsp.rm(root, { recursive: true, force: true });
    })();
    return closing;
  };

  const sandbox: Sandbox = {
    url: ctx.url,
    appId: resolved.appId,
    accessToken: resolved.accessToken,
    knowledgeBase: { name: kb.name, chatbotUserId: kb.chatbotUserId, adminUserIds: [...kb.adminUserIds] },
    storageDir: root,
    state,
    setFaults: control.setFaults,
    idle,
    setPage: control.setPage,
    reset,
    configSnippet: (): SandboxConfigSnippet => ({
      api: { endpoint: ctx.url, appId: resolved.appId, accessToken: resolved.accessToken },
      knowledgeBase: { chatbotUserId: kb.chatbotUserId, adminUserId: kb.adminUserIds[0] as number, name: kb.name },
      sources: [],
      sync: {},
    }),
    close,
  };
  // Printing or serialising the handle never shows the token.
  const visible = () => ({ url: ctx.url, appId: resolved.appId, knowledgeBase: sandbox.knowledgeBase });
  Object.defineProperty(sandbox, 'accessToken', { value: resolved.accessToken, enumerable: false });
  Object.defineProperty(sandbox, 'toJSON', { value: visible, enumerable: false });
  Object.defineProperty(sandbox, inspect.custom, { value: () => `Sandbox ${inspect(visible())}`, enumerable: false });
  return sandbox;
}
