/**
 * Generated document trees: `folders` folders of `perFolder` small `.md` / `.txt` files of 200-4,000 bytes of
 * varied text. Deterministic (a seeded generator), and every file holds a unique first line, so no two files
 * have the same content (lanying-kb would report duplicates as skipped).
 */
import fs from 'node:fs';
import path from 'node:path';

const WORDS = (
  'knowledge base chatbot document folder sync upload message server client token admin user group file ' +
  'index search answer question policy storage bucket object latency throughput memory process signal state ' +
  'record hash digest scan plan send retry timeout config source metadata title link page archive version ' +
  'release customer support handbook guide install update remove change network request response header body ' +
  'the a of to and in is for on with as by at from that this be are it or an was which not have has can will ' +
  '蓝莺 知识库 文档 上传 同步 消息 机器人 用户 管理员 配置'
).split(' ');

/** Mulberry32: a small seeded PRNG. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Varied text of exactly `bytes` UTF-8 bytes (ASCII padding at the end keeps the length exact). */
function text(rand, header, bytes) {
  const parts = [header, '\n\n'];
  let length = Buffer.byteLength(header) + 2;
  let sentence = 0;
  while (length < bytes) {
    const word = WORDS[Math.floor(rand() * WORDS.length)];
    const piece = sentence === 0 ? word[0].toUpperCase() + word.slice(1) : ` ${word}`;
    parts.push(piece);
    length += Buffer.byteLength(piece);
    if (++sentence > 6 + rand() * 12) {
      const end = rand() < 0.15 ? '.\n\n' : '. ';
      parts.push(end);
      length += end.length;
      sentence = 0;
    }
  }
  const buffer = Buffer.from(parts.join(''));
  // Cut at `bytes`, then step back to a character boundary and pad with spaces.
  let cut = Math.min(bytes, buffer.length);
  while (cut > 0 && (buffer[cut] & 0xc0) === 0x80) cut--;
  const out = Buffer.alloc(bytes, 0x20);
  buffer.copy(out, 0, 0, cut);
  out[bytes - 1] = 0x0a;
  return out;
}

/**
 * Writes the tree under `root` (created; must not exist) and returns its description.
 * @returns {{ root: string, files: number, folders: number, bytes: number, ms: number }}
 */
export function generateTree(root, { folders, perFolder, seed = 1, minBytes = 200, maxBytes = 4000 }) {
  const started = performance.now();
  const rand = prng(seed);
  fs.mkdirSync(root, { recursive: false });
  let bytes = 0;
  for (let d = 0; d < folders; d++) {
    const dir = path.join(root, `section-${String(d).padStart(4, '0')}`);
    fs.mkdirSync(dir);
    for (let f = 0; f < perFolder; f++) {
      const id = d * perFolder + f;
      const ext = rand() < 0.6 ? 'md' : 'txt';
      const size = minBytes + Math.floor(rand() * (maxBytes - minBytes + 1));
      const header = ext === 'md' ? `# Document ${id} (section ${d})` : `Document ${id} of section ${d}`;
      fs.writeFileSync(path.join(dir, `doc-${String(f).padStart(4, '0')}.${ext}`), text(rand, header, size));
      bytes += size;
    }
  }
  return { root, files: folders * perFolder, folders, bytes, ms: Math.round(performance.now() - started) };
}

/** The tree shapes of the scaling benchmark. */
export const SHAPES = {
  flat: 'flat: folders of 100 files side by side under the root (1,000 x 100 at 100k files)',
  nested: 'nested: folders 3 to 5 levels deep (10 areas, 10 topics each, then 1 to 3 more levels), 20 to 80 files in each leaf folder and a few in the folders above',
  'one-folder': 'one folder: every file in a single folder',
};

/** Extensions of the mixed trees and their shares. */
const MIXED = [
  ['md', 0.4],
  ['txt', 0.25],
  ['html', 0.2],
  ['csv', 0.15],
];

function pickExt(rand) {
  let x = rand();
  for (const [ext, share] of MIXED) {
    if ((x -= share) < 0) return ext;
  }
  return 'md';
}

/** A file's content in its type's form, exactly `bytes` bytes, unique by `id`. */
function mixedContent(rand, ext, id, bytes) {
  if (ext === 'html') {
    const head = `<!doctype html>\n<html><head><meta charset="utf-8"><title>Document ${id}</title></head><body>\n<h1>Document ${id}</h1>\n<p>`;
    const tail = '</p>\n</body></html>\n';
    const body = text(rand, `Page ${id}`, Math.max(16, bytes - Buffer.byteLength(head) - tail.length));
    return Buffer.concat([Buffer.from(head), body.subarray(0, body.length - 1), Buffer.from(tail)]).subarray(0, Math.max(bytes, head.length + tail.length));
  }
  if (ext === 'csv') {
    const rows = [`id,title,section,words`, `${id},Document ${id},${id % 97},${Math.floor(rand() * 1000)}`];
    let length = rows.join('\n').length + 1;
    for (let r = 0; length < bytes; r++) {
      const row = `${id}-${r},${WORDS[Math.floor(rand() * WORDS.length)]} ${WORDS[Math.floor(rand() * WORDS.length)]},${r % 13},${Math.floor(rand() * 10_000)}`;
      rows.push(row);
      length += Buffer.byteLength(row) + 1;
    }
    const out = Buffer.alloc(bytes, 0x20);
    Buffer.from(`${rows.join('\n')}\n`).copy(out, 0, 0, bytes);
    out[bytes - 1] = 0x0a;
    return out;
  }
  return text(rand, ext === 'md' ? `# Document ${id}` : `Document ${id}`, bytes);
}

/** The folders of a shape and how many files each holds, in a deterministic order, until `files` files. */
function* shapeFolders(shape, files, rand) {
  if (shape === 'one-folder') {
    yield ['all', files];
    return;
  }
  if (shape === 'flat') {
    for (let d = 0, left = files; left > 0; d++, left -= 100) yield [`section-${String(d).padStart(5, '0')}`, Math.min(100, left)];
    return;
  }
  // nested: area-X/topic-Y/part-Z[/chapter-W[/page-V]]: depth 3 to 5; leaves hold 20-80 files, the folders above 0-5.
  let left = files;
  for (let unit = 0; left > 0; unit++) {
    const area = `area-${String(unit % 10).padStart(2, '0')}`;
    const topic = `topic-${String(Math.floor(unit / 10) % 10).padStart(2, '0')}`;
    const part = `part-${String(Math.floor(unit / 100)).padStart(4, '0')}`;
    const base = `${area}/${topic}/${part}`;
    const depth = 3 + Math.floor(rand() * 3);
    const here = depth === 3 ? 0 : Math.min(left, Math.floor(rand() * 6));
    if (here > 0) {
      yield [base, here];
      left -= here;
    }
    const leaves = depth === 3 ? [base] : depth === 4 ? [`${base}/chapter-0`, `${base}/chapter-1`] : [`${base}/chapter-0/page-0`, `${base}/chapter-0/page-1`, `${base}/chapter-1/page-0`];
    for (const leaf of leaves) {
      if (left <= 0) break;
      const n = Math.min(left, 20 + Math.floor(rand() * 61));
      yield [leaf, n];
      left -= n;
    }
  }
}

/**
 * Writes a tree of `files` files in one of the `SHAPES` under `root` (created; must not exist): mixed types (.md, .txt,
 * .html, .csv; 700-3,400 bytes each, every file's content unique) and, with `largeFiles`, that many large files (20 to
 * 48 MiB, under the chatbot's 50 MiB limit) spread among the small ones (counted in `files`).
 * @returns {{ root: string, shape: string, files: number, folders: number, bytes: number, largeFiles: number, largeBytes: number, ms: number }}
 */
export function generateShapedTree(root, { shape, files, seed = 1, largeFiles = 0 }) {
  if (!SHAPES[shape]) throw new Error(`unknown tree shape ${shape}`);
  const started = performance.now();
  const rand = prng(seed);
  fs.mkdirSync(root, { recursive: false });
  let bytes = 0;
  let folders = 0;
  let id = 0;
  const small = files - largeFiles;
  const largeEvery = largeFiles > 0 ? Math.max(1, Math.floor(small / largeFiles)) : Infinity;
  let large = 0;
  let largeBytes = 0;
  for (const [rel, count] of shapeFolders(shape, small, rand)) {
    const dir = path.join(root, rel);
    fs.mkdirSync(dir, { recursive: true });
    folders++;
    for (let f = 0; f < count; f++, id++) {
      const ext = pickExt(rand);
      const size = 700 + Math.floor(rand() * 2701);
      fs.writeFileSync(path.join(dir, `doc-${String(f).padStart(5, '0')}.${ext}`), mixedContent(rand, ext, id, size));
      bytes += size;
      if (large < largeFiles && (id + 1) % largeEvery === 0) {
        const mib = 20 + Math.round((28 * large) / Math.max(1, largeFiles - 1));
        largeBytes += writeLargeFile(path.join(dir, `large-${large}.txt`), mib * 1024 * 1024, id);
        large++;
      }
    }
  }
  while (large < largeFiles) {
    largeBytes += writeLargeFile(path.join(root, `large-${large}.txt`), (20 + large) * 1024 * 1024, id + large);
    large++;
  }
  return { root, shape, files: small + large, folders, bytes: bytes + largeBytes, largeFiles: large, largeBytes, ms: Math.round(performance.now() - started) };
}

/** A large text file of `bytes` bytes, written in 1 MiB chunks that differ from each other. */
function writeLargeFile(file, bytes, id) {
  const chunk = Buffer.alloc(1024 * 1024);
  const line = Buffer.from(`lanying-kb benchmark: a large document (${id}) among small ones. 0123456789 abcdefghijklmnopqrstuvwxyz\n`);
  for (let i = 0; i < chunk.length; i += line.length) line.copy(chunk, i);
  const fd = fs.openSync(file, 'w');
  try {
    for (let written = 0, n = 0; written < bytes; n++) {
      chunk.write(`chunk ${id}:${String(n).padStart(8, '0')}\n`, 0);
      const len = Math.min(chunk.length, bytes - written);
      fs.writeSync(fd, chunk, 0, len);
      written += len;
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}
