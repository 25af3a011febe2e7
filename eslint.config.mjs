// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_APPS = { group: ['**/apps/**'], message: 'libs must not import from apps' };

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', '.ab/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Apps depend on libs and never the other way round (tests may read both).
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_APPS] }],
    },
  },
  {
    // Core stays free of adapters too. (A rule set here replaces the one above, so both are listed.)
    files: ['libs/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [NO_APPS],
          paths: ['express', 'bullmq', 'typeorm', 'ioredis', 'pg', '@app/persistence', '@app/storage', '@app/queue'].map((name) => ({
            name,
            message: 'libs/core holds the rules; adapters implement its ports, not the other way round',
          })),
        },
      ],
    },
  },
  {
    // Tests read arbitrary JSON answers.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly', fetch: 'readonly', setTimeout: 'readonly', setInterval: 'readonly', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
