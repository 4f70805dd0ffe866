import { defineConfig } from 'vitest/config';

// One run covers every project's unit tests (next to the code) and the cross-package tests.
export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
