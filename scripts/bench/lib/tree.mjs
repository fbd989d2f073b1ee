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
