/**
 * HTTP, multipart and MIME modules, loaded on first use. A run that sends no request (a no-op sync, `status`,
 * `validate`) does not pay for loading them: undici alone is most of the CLI's module-loading time.
 */
import type FormDataClass from 'form-data';
import type MimeTypes from 'mime-types';
import type * as Undici from 'undici';

let undici: Promise<typeof Undici> | undefined;
let formData: Promise<typeof FormDataClass> | undefined;
let mimeTypes: Promise<typeof MimeTypes> | undefined;

/** The undici module. */
export function loadUndici(): Promise<typeof Undici> {
  return (undici ??= import('undici'));
}

/** The `form-data` package's `FormData` class. */
export function loadFormData(): Promise<typeof FormDataClass> {
  return (formData ??= import('form-data').then((m) => m.default));
}

/** The `mime-types` package. */
export function loadMimeTypes(): Promise<typeof MimeTypes> {
  return (mimeTypes ??= import('mime-types').then((m) => m.default));
}
