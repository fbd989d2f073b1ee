import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Where uploaded objects live on disk: `<root>/objects/<generation>/<sha256 of bucket/key>` (never the key itself,
 * so no key can escape the folder), with partial uploads in `<root>/tmp`. `reset()` starts a new generation and
 * removes the old one in the background, so an upload that starts right after a reset is never caught by it.
 */
export class ObjectStorage {
  readonly tmpDir: string;
  readonly #objectsDir: string;
  #generation = 1;

  constructor(readonly root: string) {
    this.tmpDir = path.join(root, 'tmp');
    this.#objectsDir = path.join(root, 'objects');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.tmpDir, { recursive: true });
    await fsp.mkdir(this.#generationDir(), { recursive: true });
  }

  /** A fresh path for a partial file. */
  tempPath(): string {
    return path.join(this.tmpDir, randomUUID());
  }

  pathFor(bucket: string, key: string): string {
    return path.join(this.#generationDir(), createHash('sha256').update(`${bucket}/${key}`).digest('hex'));
  }

  /** Moves a finished partial file into place; returns where it is. */
  async commit(tempPath: string, bucket: string, key: string): Promise<string> {
    const target = this.pathFor(bucket, key);
    await fsp.rename(tempPath, target);
    return target;
  }

  /** Forgets every object. */
  reset(): void {
    const old = this.#generationDir();
    this.#generation++;
    mkdirSync(this.#generationDir(), { recursive: true });
    void fsp.rm(old, { recursive: true, force: true }).catch(() => undefined);
  }

  #generationDir(): string {
    return path.join(this.#objectsDir, String(this.#generation));
  }
}
