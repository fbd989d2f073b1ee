/**
 * The exports of a CommonJS package loaded with `import()`. Node.js gives its named exports and, as `default`, its
 * `module.exports`; the bundled CLI (scripts/bundle-cli.mjs: esbuild puts lazily loaded code in chunks) gives only
 * `default`. `module.exports` is in `default` either way.
 */
export function commonJsExports<T extends object>(namespace: T): T {
  const exports = (namespace as { default?: unknown }).default;
  return exports !== null && typeof exports === 'object' ? (exports as T) : namespace;
}
