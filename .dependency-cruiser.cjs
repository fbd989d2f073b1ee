/**
 * The layers of lanying-kb, lowest first. A module may import its own layer and the layers below it, never one
 * above: data flows up (sources observe, the sync plans and applies, the daemon and the CLI drive them).
 * `npm run lint` runs this check (`depcruise`), so CI enforces it.
 */
const LAYERS = [
  { name: 'base', path: '^src/(errors|version)\\.ts$|^src/util/' },
  { name: 'protocol', path: '^src/protocol/' },
  { name: 'api', path: '^src/api/' },
  { name: 'state', path: '^src/state/' },
  { name: 'sources', path: '^src/sources/' },
  { name: 'config', path: '^src/config/' },
  { name: 'kb', path: '^src/kb/' },
  { name: 'runtime', path: '^src/runtime/' },
  { name: 'notify', path: '^src/notify/' },
  { name: 'sync', path: '^src/sync/' },
  { name: 'audit', path: '^src/audit/' },
  { name: 'documents', path: '^src/documents/' },
  { name: 'admin', path: '^src/admin/' },
  { name: 'daemon', path: '^src/daemon/' },
  { name: 'cli', path: '^src/cli/' },
];

/** Layers of the same height that must not know each other. */
const SIBLINGS = [
  ['api', 'state'],
  ['audit', 'documents'],
];

const upward = LAYERS.flatMap((from, i) =>
  LAYERS.slice(i + 1).map((to) => ({
    name: `no-${from.name}-to-${to.name}`,
    comment: `${from.name} is below ${to.name}: it must not import it`,
    severity: 'error',
    from: { path: from.path },
    to: { path: to.path },
  })),
);

const siblings = SIBLINGS.flatMap(([a, b]) =>
  [
    [a, b],
    [b, a],
  ].map(([from, to]) => ({
    name: `no-${from}-to-${to}`,
    comment: `${from} and ${to} are independent layers`,
    severity: 'error',
    from: { path: LAYERS.find((l) => l.name === from).path },
    to: { path: LAYERS.find((l) => l.name === to).path },
  })),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'modules that import each other in a loop cannot be understood (or tested) one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
    ...siblings,
    {
      name: 'sandbox-stands-alone',
      comment:
        'the sandbox keeps its own copy of the vendor contract: it must not share the client\'s protocol, API code or anything above',
      severity: 'error',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/', pathNot: '^src/sandbox/|^src/(errors|version)\\.ts$' },
    },
    {
      name: 'only-entry-points-load-the-sandbox',
      comment: 'library code never loads the sandbox (a test and demo tool); the CLI command and the entry point do',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/sandbox/|^src/cli/commands/sandbox\\.ts$|^src/index\\.ts$' },
      to: { path: '^src/sandbox/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    includeOnly: '^src/',
  },
};
