/**
 * Jest: unit tests in test/, device-only checks in test/gpu/ (they skip, visibly, without a GPU).
 * tsconfig.json sets isolatedModules, so ts-jest transpiles each file alone (type checking is
 * `npm run typecheck`'s job). No single test may run longer than testTimeout unless it says so.
 */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
};

module.exports = {
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/*.test.ts'] },
    { ...common, displayName: 'gpu', testMatch: ['<rootDir>/test/gpu/*.test.ts'] },
  ],
};
