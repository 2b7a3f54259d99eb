// Lint rules for the whole repository. The raft-ts block enforces that the Raft core is a
// pure, deterministic state machine (STYLE.md rule 1): no I/O, no clocks, no timers, no
// global randomness and no asynchrony — everything arrives through its inputs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Messages are part of the contract: test/lint/raft-purity.test.ts asserts they fire. */
export const RAFT_PURITY_MESSAGE = 'raft-ts must stay pure and deterministic';

const raftRestrictedGlobals = [
  'Date', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval',
  'clearImmediate', 'queueMicrotask', 'process', 'Promise', 'performance', 'require',
  'fetch', 'crypto', 'Buffer',
].map((name) => ({ name, message: `${RAFT_PURITY_MESSAGE}: '${name}' is not allowed (inject it)` }));

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/*.d.ts', 'data/**', 'proto/src/gen/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly',
        clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        setImmediate: 'readonly', clearImmediate: 'readonly', URL: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly',
        AbortSignal: 'readonly', queueMicrotask: 'readonly', performance: 'readonly',
        structuredClone: 'readonly', fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The library itself. Its unit tests (`*.test.ts`) run under Node's test runner and
    // may use node:test, files and timers; they are not part of the library.
    files: ['raft-ts/src/**/*.ts'],
    ignores: ['raft-ts/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['node:*'], message: `${RAFT_PURITY_MESSAGE}: no node:* modules` }],
        paths: ['fs', 'path', 'os', 'net', 'http', 'https', 'crypto', 'child_process', 'timers',
          'worker_threads', 'events', 'stream', 'util', 'process', 'dgram', 'dns', 'perf_hooks']
          .map((name) => ({ name, message: `${RAFT_PURITY_MESSAGE}: no Node built-in modules` })),
      }],
      'no-restricted-globals': ['error', ...raftRestrictedGlobals],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: `${RAFT_PURITY_MESSAGE}: use the injected Rand` },
        { object: 'globalThis', message: `${RAFT_PURITY_MESSAGE}: no ambient globals` },
      ],
      'no-restricted-syntax': ['error',
        { selector: 'FunctionDeclaration[async=true], FunctionExpression[async=true], ArrowFunctionExpression[async=true]', message: `${RAFT_PURITY_MESSAGE}: no async functions` },
        { selector: 'AwaitExpression', message: `${RAFT_PURITY_MESSAGE}: no await` },
        { selector: 'ImportExpression', message: `${RAFT_PURITY_MESSAGE}: no dynamic import` },
        { selector: 'TSTypeReference[typeName.name="Promise"]', message: `${RAFT_PURITY_MESSAGE}: no Promise types` },
        { selector: 'MemberExpression[property.name="then"]', message: `${RAFT_PURITY_MESSAGE}: no Promise chains` },
      ],
    },
  },
);
