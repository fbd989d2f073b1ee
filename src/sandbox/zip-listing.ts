import { promises as fsp } from 'node:fs';

/** One entry of a zip's central directory. */
export interface ZipMember {
  name: string;
  uncompressedSize: number;
  compressedSize: number;
  isDirectory: boolean;
}

/** The file is not a readable zip archive. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;
/** A central directory bigger than this is refused (a zip of that many entries is no knowledge base). */
const MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const gbk = new TextDecoder('gbk');

/**
 * A member name as the chatbot reads it: UTF-8 when the entry says so (flag bit 11); otherwise the bytes are
 * tried as UTF-8 and then as GBK (the real service decodes cp437 → UTF-8, falling back to GBK, which amounts to
 * the same).
 */
function decodeName(bytes: Buffer, utf8Flag: boolean): string {
  if (utf8Flag) return bytes.toString('utf8');
  try {
    return utf8.decode(bytes);
  } catch {
    return gbk.decode(bytes);
  }
}

async function readAt(handle: fsp.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new ZipFormatError('unexpected end of file');
  return buffer;
}

/**
 * Lists a zip's members from its central directory: names and sizes only, nothing is decompressed. Supports zip64.
 * Reads only the tail of the file and the directory, never the whole archive.
 */
export async function listZipMembers(filepath: string): Promise<ZipMember[]> {
  const handle = await fsp.open(filepath, 'r');
  try {
    const { size } = await handle.stat();
    if (size < EOCD_MIN) throw new ZipFormatError('too small to be a zip archive');
    const tailLength = Math.min(size, EOCD_MIN + MAX_COMMENT);
    const tailStart = size - tailLength;
    const tail = await readAt(handle, tailStart, tailLength);
    let eocd = -1;
    for (let i = tail.length - EOCD_MIN; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new ZipFormatError('no end of central directory record');

    let entries = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (entries === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locatorAt = tailStart + eocd - 20;
      if (locatorAt < 0) throw new ZipFormatError('zip64 locator missing');
      const locator = await readAt(handle, locatorAt, 20);
      if (locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE) throw new ZipFormatError('zip64 locator missing');
      const zip64At = Number(locator.readBigUInt64LE(8));
      const zip64 = await readAt(handle, zip64At, 56);
      if (zip64.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) throw new ZipFormatError('zip64 end of central directory missing');
      entries = Number(zip64.readBigUInt64LE(32));
      cdSize = Number(zip64.readBigUInt64LE(40));
      cdOffset = Number(zip64.readBigUInt64LE(48));
    }
    if (cdSize > MAX_CENTRAL_DIRECTORY_BYTES) throw new ZipFormatError('central directory too large');
    if (cdOffset + cdSize > size) throw new ZipFormatError('central directory outside the file');
    const directory = await readAt(handle, cdOffset, cdSize);

    const members: ZipMember[] = [];
    let at = 0;
    for (let n = 0; n < entries; n++) {
      if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new ZipFormatError(`bad central directory entry ${n}`);
      const flags = directory.readUInt16LE(at + 8);
      let compressedSize = directory.readUInt32LE(at + 20);
      let uncompressedSize = directory.readUInt32LE(at + 24);
      const nameLength = directory.readUInt16LE(at + 28);
      const extraLength = directory.readUInt16LE(at + 30);
      const commentLength = directory.readUInt16LE(at + 32);
      const nameStart = at + 46;
      const extraStart = nameStart + nameLength;
      if (extraStart + extraLength + commentLength > directory.length) throw new ZipFormatError(`truncated central directory entry ${n}`);
      const name = decodeName(directory.subarray(nameStart, extraStart), (flags & 0x0800) !== 0);
      // Zip64 sizes live in extra field 0x0001, in this order, only for the fields that are 0xffffffff.
      for (let e = extraStart; e + 4 <= extraStart + extraLength; ) {
        const id = directory.readUInt16LE(e);
        const length = directory.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let p = e + 4;
          if (uncompressedSize === 0xffffffff && p + 8 <= e + 4 + length) {
            uncompressedSize = Number(directory.readBigUInt64LE(p));
            p += 8;
          }
          if (compressedSize === 0xffffffff && p + 8 <= e + 4 + length) compressedSize = Number(directory.readBigUInt64LE(p));
        }
        e += 4 + length;
      }
      members.push({ name, uncompressedSize, compressedSize, isDirectory: name.endsWith('/') });
      at = extraStart + extraLength + commentLength;
    }
    return members;
  } finally {
    await handle.close();
  }
}
