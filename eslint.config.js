// Flat config: typescript-eslint on every package, plus the import boundaries the design
// depends on (core imports no backend; backends import only core).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const boundary = (group, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group, message }] }],
});

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/build/**',
      'coverage/**',
      'bench-results/**',
      '.tmp/**',
      '.perf/**',
      '.scratch*/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // CommonJS config files (mocha's) run in Node.
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        exports: 'writable',
        __dirname: 'readonly',
        setTimeout: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['packages/core/**/*.ts'],
    rules: boundary(
      ['@flextoe/backend-*', '@flextoe/sockets', '@flextoe/bench'],
      'core imports no backend (DESIGN.md 3).',
    ),
  },
  {
    files: ['packages/backend-*/**/*.ts'],
    rules: boundary(
      ['@flextoe/sockets', '@flextoe/bench', '@flextoe/backend-*'],
      'a backend imports only @flextoe/core (the simulated ones also @flextoe/sim).',
    ),
  },
  {
    // The simulators' shared engine and NIC machinery: core, plus the x86 port drivers, which
    // are the simulated NICs' wire in paced mode (issue 6).
    files: ['packages/sim/**/*.ts'],
    rules: boundary(
      ['@flextoe/sockets', '@flextoe/bench', '@flextoe/backend-agilio-sim', '@flextoe/backend-bluefield-sim'],
      '@flextoe/sim imports only @flextoe/core and the x86 port drivers.',
    ),
  },
);
