import type { Writable } from 'node:stream';
import { jsonPieces } from './context.js';

/** Pieces are gathered into writes of about this many characters. */
const WRITE_SIZE = 64 * 1024;

/**
 * One indented JSON object written while it is made: the elements of its first member, an array, as they come
 * (`push`), then the other members (`end`). The text is `writeJson`'s of the same object with that member first, so
 * a report of a million entries never waits in memory for the end of its run.
 */
export class StreamedJsonObject {
  readonly #stream: Writable;
  readonly #arrayKey: string;
  #count = 0;
  #pending = '';
  #ended = false;

  constructor(stream: Writable, arrayKey: string) {
    this.#stream = stream;
    this.#arrayKey = arrayKey;
  }

  /** Whether any of it was made (`end` must then close it). */
  get started(): boolean {
    return this.#count > 0;
  }

  push(element: unknown): void {
    const text = (JSON.stringify(element, null, 2) ?? 'null').replaceAll('\n', '\n    ');
    this.#pending += `${this.#count === 0 ? `{\n  ${JSON.stringify(this.#arrayKey)}: [` : ','}\n    ${text}`;
    this.#count++;
    if (this.#pending.length >= WRITE_SIZE) {
      this.#stream.write(this.#pending);
      this.#pending = '';
    }
  }

  /** Closes the array and writes `rest`'s members (undefined ones left out, as `JSON.stringify` does). */
  end(rest: Record<string, unknown>): void {
    if (this.#ended) return;
    this.#ended = true;
    let text = this.#count === 0 ? `{\n  ${JSON.stringify(this.#arrayKey)}: []` : `${this.#pending}\n  ]`;
    this.#pending = '';
    for (const [key, value] of Object.entries(rest)) {
      if (key === this.#arrayKey || value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
      text += `,\n  ${JSON.stringify(key)}: `;
      for (const piece of jsonPieces(value, '  ')) {
        text += piece;
        if (text.length >= WRITE_SIZE) {
          this.#stream.write(text);
          text = '';
        }
      }
    }
    this.#stream.write(`${text}\n}\n`);
  }
}
