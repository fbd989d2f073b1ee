/**
 * Document types the chatbot's knowledge base accepts, by lower-case extension without the dot
 * (`lanying-kb-ingestion.md`, section c). Everything else is skipped, never uploaded.
 */
export const SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze([
  'html',
  'htm',
  'md',
  'txt',
  'pdf',
  'docx',
  'doc',
  'pptx',
  'csv',
  'xlsx',
  'xls',
  'zip',
]);

const SUPPORTED = new Set(SUPPORTED_EXTENSIONS);

/** Whether a lower-case extension (without the dot) is one the knowledge base accepts. */
export function isSupportedExtension(ext: string): boolean {
  return SUPPORTED.has(ext.toLowerCase());
}

/** The lower-case extension of a file name, without the dot; "" when there is none. */
export function extensionOf(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/** The chatbot's size limit for one document: 50 MiB. */
export const MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;
