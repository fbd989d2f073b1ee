import { randomBytes } from 'node:crypto';
import { canRespond, type Exchange } from './exchange.js';

/** A refusal by the storage endpoint, answered like Aliyun OSS: an HTTP error status and an XML body. */
export class OssFailure extends Error {
  override name = 'OssFailure';
  constructor(
    readonly status: number,
    readonly ossCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** Escapes element text (quotes need no escaping outside attributes, and stay readable). */
function escapeXml(text: string): string {
  return text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string);
}

export function newRequestId(): string {
  return randomBytes(12).toString('hex').toUpperCase();
}

/** The XML error document OSS sends. */
export function ossErrorXml(ossCode: string, message: string, requestId: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Error>',
    `  <Code>${escapeXml(ossCode)}</Code>`,
    `  <Message>${escapeXml(message)}</Message>`,
    `  <RequestId>${requestId}</RequestId>`,
    '  <HostId>sandbox-oss</HostId>',
    '</Error>',
    '',
  ].join('\n');
}

export function sendOssError(ex: Exchange, failure: OssFailure): void {
  if (!canRespond(ex)) return;
  const requestId = newRequestId();
  const body = ossErrorXml(failure.ossCode, failure.message, requestId);
  ex.res.writeHead(failure.status, {
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(body)),
    'x-oss-request-id': requestId,
  });
  ex.res.end(ex.method === 'HEAD' ? undefined : body);
}
