// Jest runs in ESM mode (NestJS 12 is ESM-only; see ../shared/stack.md).

// The whole suite runs with a write-side snapshot every 2 events (default 100), so that every
// test also proves snapshot + tail = full fold. Set before any test module loads; test files see
// it in process.env and server/CLI processes spawned by e2e tests inherit it ({ ...process.env }).
// `SNAPSHOT_EVERY=0 npm test` runs the suite without snapshots.
process.env.SNAPSHOT_EVERY ??= '2';
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          keepClassNames: true,
          target: 'es2022',
          // `import … with { type: 'json' }` (Unicode's confusables in src/shared/domain/guards.ts) reaches Jest as written.
          experimental: { keepImportAttributes: true },
        },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: 30000,
};
