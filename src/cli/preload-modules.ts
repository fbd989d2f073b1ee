import { loadFormData, loadMimeTypes, loadUndici } from '../api/lazy-modules.js';

/**
 * Loads now every module a long-running command would otherwise load on first use: the HTTP client and multipart
 * uploads, YAML configurations (a reload), polling watchers, URL sources, HTML titles. The bundled CLI keeps them in
 * chunk files named by their content (scripts/bundle-cli.mjs), which an upgrade of the package replaces: a daemon
 * started before an upgrade could then load none of them, and would fail every send until it was restarted.
 * test/cli/preload-modules.test.ts fails when library code imports a module lazily that is not loaded here.
 */
export async function preloadLaterModules(): Promise<void> {
  await Promise.all([loadUndici(), loadFormData(), loadMimeTypes(), import('yaml'), import('chokidar'), import('../sources/urls/fetch.js'), import('../util/html-text.js')]);
}
