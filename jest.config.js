/**
 * Jest runs the TypeScript sources as native ES modules. ts-jest only transpiles: `isolatedModules` is set in
 * tsconfig.json (where ts-jest 29.4 reads it), and `npm test` type-checks the whole project with tsc first.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Once per run, not once per file: what is skipped for lack of a server (MongoDB).
  globalSetup: '<rootDir>/test/support/mongo-availability.ts',
  testTimeout: 30000,
  maxWorkers: 2,
};
