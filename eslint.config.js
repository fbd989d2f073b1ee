import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench-out/**', '.stryker-tmp/**', 'reports/**'] },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextDecoder: 'readonly',
        TextEncoder: 'readonly',
        Blob: 'readonly',
        structuredClone: 'readonly',
        performance: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
        clearImmediate: 'readonly',
        NodeJS: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  // The sandbox keeps its own copy of the vendor's texts and rules: a wrong client constant must not be wrong in
  // the sandbox too (docs/vendor-contract.md). It may use only the error tree and the version.
  {
    files: ['src/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../api/*', '../protocol/*', '../config/*', '../sync/*', '../cli/*', '../daemon/*', '../admin/*', '../../*/*'], message: 'The sandbox imports only src/errors.ts and src/version.ts.' }] },
      ],
    },
  },
  // The client's knowledge of the vendor's protocol: imported by api/, sync/, config/, cli/; it imports none of them.
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['../api/*', '../config/*', '../sync/*', '../sandbox/*', '../cli/*', '../daemon/*', '../admin/*'], message: 'src/protocol imports only src/errors.ts.' }] },
      ],
    },
  },
);
