/**
 * Which files the knowledge-base chatbot takes, and how big. The client's copy of these rules (the sandbox keeps
 * its own, written separately from the same vendor sources). Vendor sources, `blockmessage/lanying-connector`
 * branch `lanying`:
 * - `lanying_embedding.py:1784-1785` `allow_exts()`: the document extensions;
 * - `services/openai_service.py:3044-3045`: `.zip` is accepted on top of them for a file message;
 * - `lanying_embedding.py:1787-1791` `parse_file_ext`: `os.path.splitext(name)[1].lower()`;
 * - `lanying_file_storage.py:15,66,79`: `FILE_STORAGE_MAX_UPLOAD_FILE_SIZE` 52 428 800, refused when larger.
 */

/** Lower-case extensions, without the dot, that the chatbot accepts, in the vendor's order, plus `zip`. */
export const KB_SUPPORTED_EXTENSIONS: readonly string[] = Object.freeze(['html', 'htm', 'csv', 'txt', 'md', 'pdf', 'docx', 'doc', 'xlsx', 'xls', 'pptx', 'zip']);

/** The chatbot's download limit for one document (`FILE_STORAGE_MAX_UPLOAD_FILE_SIZE`): 50 MiB; larger is refused. */
export const KB_MAX_DOCUMENT_BYTES = 52_428_800;

const SUPPORTED = new Set(KB_SUPPORTED_EXTENSIONS);

/**
 * The lower-case extension of a file name, without the dot; "" when there is none. Like Python's
 * `os.path.splitext`: the last dot of the last path segment, and a name that starts with its only dot (".md")
 * has no extension.
 */
export function kbExtensionOf(name: string): string {
  // The chatbot runs on Linux: only "/" separates path segments.
  const base = name.slice(name.lastIndexOf('/') + 1);
  const withoutLeadingDots = base.replace(/^\.+/, '');
  const dot = withoutLeadingDots.lastIndexOf('.');
  return dot >= 0 ? withoutLeadingDots.slice(dot + 1).toLowerCase() : '';
}

/** Whether the chatbot accepts a document with this lower-case extension (without the dot). */
export function isKbSupportedExtension(ext: string): boolean {
  return SUPPORTED.has(ext.toLowerCase());
}

/** Whether the chatbot accepts a document with this display name (`dName`), by its extension. */
export function isKbSupportedName(name: string): boolean {
  return SUPPORTED.has(kbExtensionOf(name));
}
