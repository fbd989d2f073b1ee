import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { LocalFileError } from '../../../src/errors.js';
import { FsWorker } from '../../../src/sources/folder/fs-worker.js';
import { hashFiles } from '../../../src/sources/folder/hash.js';
import { hashBatch, hashFileSync, READ_CHUNK } from '../../../src/sources/folder/fs-batch.js';
import { sha256 } from '../../../src/util/sha256.js';
import type { FileHash } from '../../../src/sources/folder/hash.js';
import { tmpDir, writeFile } from '../../helpers/tmp-dir.js';

const hex = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('sha256', () => {
  it('matches the standard test vectors', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256('')).toBe(EMPTY);
    expect(sha256(new Uint8Array([0xe4, 0xbd, 0xa0]))).toBe(sha256('你'));
  });
});

describe('hashFileSync (the one hashing function of both threads)', () => {
  const buffer = Buffer.allocUnsafe(READ_CHUNK);

  it('matches crypto on a known buffer', () => {
    const data = Buffer.from('蓝莺 knowledge base\n'.repeat(100));
    const file = writeFile(tmpDir(), 'a.md', data);
    expect(hashFileSync(file, buffer)).toEqual({ sha256: hex(data), size: data.length });
  });

  it.each([
    ['empty', 0],
    ['exactly 64 KiB', 64 * 1024],
    ['one byte less than the buffer', READ_CHUNK - 1],
    ['exactly the buffer', READ_CHUNK],
    ['the buffer + 1', READ_CHUNK + 1],
    ['several MiB', 5 * 1024 * 1024 + 12345],
  ])('matches crypto on a %s file', (_label, size) => {
    const data = randomBytes(size);
    const file = writeFile(tmpDir(), 'f.pdf', data);
    const result = hashFileSync(file, buffer);
    expect(result).toEqual({ sha256: hex(data), size });
    if (size === 0) expect(result.sha256).toBe(EMPTY);
  });

  it('reads with a small buffer too', () => {
    const data = randomBytes(10_000);
    const file = writeFile(tmpDir(), 'f.pdf', data);
    expect(hashFileSync(file, Buffer.alloc(1000))).toEqual({ sha256: hex(data), size: data.length });
  });

  it('accepts a Buffer path', () => {
    const root = tmpDir();
    const file = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x80, 0x2e, 0x6d, 0x64])]);
    writeFileSync(file, 'bytes');
    expect(hashFileSync(file, buffer)).toEqual({ sha256: hex('bytes'), size: 5 });
  });

  it('throws the system error of a missing file or a folder', () => {
    expect(() => hashFileSync(path.join(tmpDir(), 'missing.md'), buffer)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    const dir = path.join(tmpDir(), 'folder.md');
    mkdirSync(dir);
    expect(() => hashFileSync(dir, buffer)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });
});

describe('hashBatch (what the worker thread runs)', () => {
  it('hashes every path, errors as codes', () => {
    const root = tmpDir();
    const a = writeFile(root, 'a.md', 'a');
    const result = hashBatch([a, path.join(root, 'gone.md'), a]);
    expect(result.hashes).toEqual([hex('a'), null, hex('a')]);
    expect([...result.sizes]).toEqual([1, 0, 1]);
    expect(result.errors).toEqual({ 1: 'ENOENT' });
  });
});

describe('hashFiles', () => {
  it('hashes small, large and unsized files, in input order, with errors as values', async () => {
    const root = tmpDir();
    const inputs: { fsPath: string; size?: number }[] = [];
    const expected: (string | 'error')[] = [];
    for (let i = 0; i < 40; i++) {
      const data = randomBytes(i * 997);
      inputs.push({ fsPath: writeFile(root, `s${i}.md`, data), size: data.length });
      expected.push(hex(data));
      if (i % 10 === 0) {
        const big = randomBytes(2 * 1024 * 1024 + i);
        inputs.push({ fsPath: writeFile(root, `b${i}.pdf`, big), size: big.length });
        expected.push(hex(big));
        inputs.push({ fsPath: writeFile(root, `u${i}.md`, `unsized ${i}`) });
        expected.push(hex(`unsized ${i}`));
        inputs.push({ fsPath: path.join(root, `missing${i}.md`), size: 10 });
        expected.push('error');
      }
    }
    const seen: number[] = [];
    const results = await hashFiles(inputs, { onResult: (index) => seen.push(index) });
    expect(results).toHaveLength(inputs.length);
    results.forEach((result, i) => {
      if (expected[i] === 'error') {
        expect(result).toBeInstanceOf(LocalFileError);
        expect((result as LocalFileError).changed).toBe(true);
      } else {
        expect((result as FileHash).sha256).toBe(expected[i]);
      }
    });
    expect(seen.sort((a, b) => a - b)).toEqual(inputs.map((_, i) => i));
  });

  it.each(['always', 'never'] as const)('gives the same results with the worker thread %s, errors included', async (worker) => {
    const root = tmpDir();
    const inputs: { fsPath: string | Buffer; size: number }[] = [];
    const expected: (string | undefined)[] = [];
    for (let i = 0; i < 700; i++) {
      const data = i % 50 === 0 ? '' : `document ${i}\n`.repeat(1 + (i % 7));
      inputs.push({ fsPath: writeFile(root, `f${i}.md`, data), size: Buffer.byteLength(data) });
      expected.push(hex(data));
    }
    // A file that vanished after the scan, and a folder where a file was, among the worker's batches too.
    inputs.splice(3, 0, { fsPath: path.join(root, 'gone.md'), size: 10 });
    expected.splice(3, 0, undefined);
    mkdirSync(path.join(root, 'now-a-folder'));
    inputs.push({ fsPath: Buffer.from(path.join(root, 'now-a-folder')), size: 10 });
    expected.push(undefined);
    const send = vi.spyOn(FsWorker.prototype, 'send');
    const results = await hashFiles(inputs, { worker });
    expect(send.mock.calls.some(([batch]) => batch.op === 'hash')).toBe(worker === 'always');
    send.mockRestore();
    expect(results).toHaveLength(inputs.length);
    results.forEach((result, i) => {
      if (expected[i] === undefined) {
        expect(result).toBeInstanceOf(LocalFileError);
        expect((result as LocalFileError).changed).toBe(i === 3);
      } else {
        expect(result).toEqual({ sha256: expected[i], size: inputs[i]?.size });
      }
    });
  });

  it('rejects with the abort reason', async () => {
    const root = tmpDir();
    const inputs = [{ fsPath: writeFile(root, 'a.md', 'a'), size: 1 }];
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(hashFiles(inputs, { signal: controller.signal })).rejects.toThrow('stop');
  });
});
