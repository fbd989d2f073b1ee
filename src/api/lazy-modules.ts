/**
 * HTTP, multipart and MIME modules, loaded on first use. A run that sends no request (a no-op sync, `status`,
 * `validate`) does not pay for loading them: undici alone is most of the CLI's module-loading time.
 */
import type FormDataClass from 'form-data';
import type MimeTypes from 'mime-types';
import type * as Undici from 'undici';
import { commonJsExports } from '../util/commonjs-exports.js';

let undici: Promise<typeof Undici> | undefined;
let formData: Promise<typeof FormDataClass> | undefined;
let mimeTypes: Promise<typeof MimeTypes> | undefined;

/**
 * The undici module, with `request` and `fetch` sending through an Agent of this undici package when the caller
 * gives no dispatcher. Without one, undici takes the process's global dispatcher, which on Node.js 24 and later is
 * the Agent of the undici copy built into Node.js: it refuses (Node.js 26) or garbles (Node.js 24: the server waits
 * for a body that never ends) the multipart `FormData` of this package that uploads use.
 */
export function loadUndici(): Promise<typeof Undici> {
  return (undici ??= import('undici').then((m) => withOwnAgent(commonJsExports(m))));
}

function withOwnAgent(module: typeof Undici): typeof Undici {
  let agent: Undici.Agent | undefined;
  const own = () => (agent ??= new module.Agent());
  const request = ((url: Parameters<typeof module.request>[0], options: Parameters<typeof module.request>[1] = {}) =>
    module.request(url, { ...options, dispatcher: options?.dispatcher ?? own() })) as typeof module.request;
  const fetch = ((input: Parameters<typeof module.fetch>[0], init: Parameters<typeof module.fetch>[1] = {}) =>
    module.fetch(input, { ...init, dispatcher: init?.dispatcher ?? own() })) as typeof module.fetch;
  return { ...module, request, fetch };
}

/** The `form-data` package's `FormData` class. */
export function loadFormData(): Promise<typeof FormDataClass> {
  return (formData ??= import('form-data').then((m) => m.default));
}

/** The `mime-types` package. */
export function loadMimeTypes(): Promise<typeof MimeTypes> {
  return (mimeTypes ??= import('mime-types').then((m) => m.default));
}
