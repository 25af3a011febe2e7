/** Unit tests sit beside the code; e2e tests in test/ start the built apps as real processes. */
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2023' } }];
const moduleNameMapper = { '^@app/(core|persistence|storage|queue|config)$': '<rootDir>/libs/$1/src' };

// e2e and fault tests start the built apps against their own database and Redis prefix.
const stackTests = {
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper,
  testEnvironment: 'node',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

module.exports = {
  // Global, not per project: e2e tests start processes and move real files.
  testTimeout: 120_000,
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'],
      transform: { '^.+\\.ts$': swc },
      moduleNameMapper,
      testEnvironment: 'node',
    },
    {
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      ...stackTests,
    },
    {
      // Kill processes, stop Postgres and Redis, fill the disk: `npm run test:faults`.
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
      ...stackTests,
    },
  ],
};
