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
  // A worker's heap grows ~30 MB per test file (each file gets its own module registry), and a process frees its
  // heap when it exits: a 1 GB worker took longer than Jest's 500 ms grace to exit at the end of the run ("A worker
  // process has failed to exit gracefully", with no handle left open). Workers above this are replaced between files.
  workerIdleMemoryLimit: '384MB',
};
