import { readFileSync } from 'node:fs';

// Note: read at run time rather than imported, so that the same relative path works from src/ (tests) and dist/.
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The package version, from package.json. */
export const VERSION: string = pkg.version;

/** The User-Agent sent with every request lanying-kb makes. */
export const USER_AGENT = `lanying-kb/${VERSION}`;
