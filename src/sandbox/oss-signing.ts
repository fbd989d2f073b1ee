import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The sandbox's object-storage credentials and every signature made with them: PostObject policies, presigned
 * PUT and GET URLs (OSS V1 signatures), and the opaque `file_sign` of download URLs.
 */

export interface PolicyDocument {
  expiration: string;
  conditions: unknown[];
}

/** What a `file_sign` carries: the object, who uploaded it and for whom. */
export interface FileSignClaims {
  bucket: string;
  key: string;
  uploader: number;
  toId: number;
  toType: number;
}

export interface PresignedQuery {
  OSSAccessKeyId: string;
  Expires: string;
  Signature: string;
}

function hmacSha1Base64(secret: Buffer, text: string): string {
  return createHmac('sha1', secret).update(text, 'utf8').digest('base64');
}

/** Constant-time string comparison. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export class OssSigner {
  readonly accessKeyId = `SBXOSS${randomBytes(6).toString('hex').toUpperCase()}`;
  readonly #secret = randomBytes(30);
  readonly #signSecret = randomBytes(32);

  constructor(readonly bucket: string) {}

  /** A base64 policy allowing exactly `key` in this bucket, sized within [0, maxBytes], until `expiresAt`. */
  policy(key: string, expiresAt: number, maxBytes: number): { policy: string; signature: string } {
    const document: PolicyDocument = {
      expiration: new Date(expiresAt).toISOString(),
      conditions: [{ bucket: this.bucket }, ['eq', '$key', key], ['content-length-range', 0, maxBytes]],
    };
    const policy = Buffer.from(JSON.stringify(document), 'utf8').toString('base64');
    return { policy, signature: this.signPolicy(policy) };
  }

  signPolicy(policyBase64: string): string {
    return hmacSha1Base64(this.#secret, policyBase64);
  }

  /**
   * OSS V1 query-string signature: `VERB\nContent-MD5\nContent-Type\nExpires\n/bucket/key`.
   * Presigned URLs here are signed with an empty Content-MD5 and Content-Type, so the request must send neither.
   */
  presignSignature(method: string, bucket: string, key: string, expires: string, contentType = '', contentMd5 = ''): string {
    return hmacSha1Base64(this.#secret, `${method}\n${contentMd5}\n${contentType}\n${expires}\n/${bucket}/${key}`);
  }

  presign(method: 'GET' | 'PUT', key: string, expiresAtMs: number): PresignedQuery {
    const expires = String(Math.floor(expiresAtMs / 1000));
    return { OSSAccessKeyId: this.accessKeyId, Expires: expires, Signature: this.presignSignature(method, this.bucket, key, expires) };
  }

  /** The opaque token in a download URL: base64url JSON claims, a dot, and their HMAC. */
  fileSign(claims: FileSignClaims): string {
    const payload = Buffer.from(JSON.stringify({ b: claims.bucket, k: claims.key, u: claims.uploader, t: claims.toId, y: claims.toType }), 'utf8').toString('base64url');
    return `${payload}.${this.#mac(payload)}`;
  }

  /** The claims of a `file_sign`, or undefined when it is malformed or was not made here. */
  readFileSign(token: string): FileSignClaims | undefined {
    const [payload, mac, extra] = token.split('.');
    if (!payload || !mac || extra !== undefined || !sameSecret(mac, this.#mac(payload))) return undefined;
    try {
      const raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      const { b, k, u, t, y } = raw;
      if (typeof b !== 'string' || typeof k !== 'string' || typeof u !== 'number' || typeof t !== 'number' || typeof y !== 'number') return undefined;
      return { bucket: b, key: k, uploader: u, toId: t, toType: y };
    } catch {
      return undefined;
    }
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#signSecret).update(payload).digest('base64url');
  }
}
