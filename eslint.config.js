// Lints what tsc does not run on: the live page's browser script, and this file. The
// TypeScript sources are checked by tsc (strict); eslint would need a TypeScript parser for them.
import js from '@eslint/js';
import globals from 'globals';

export default [
  {
    files: ['src/http/live/**/*.js'],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.browser,
    },
    rules: {
      ...js.configs.recommended.rules,
      // Values from the stream reach the DOM as text only: markup sinks are refused outright.
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'Use textContent: stream values are untrusted.' },
        { property: 'outerHTML', message: 'Use textContent: stream values are untrusted.' },
        { property: 'insertAdjacentHTML', message: 'Use textContent: stream values are untrusted.' },
      ],
      'no-restricted-globals': ['error', { name: 'EventSource', message: 'EventSource cannot send the token in a header: use fetch().' }],
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      eqeqeq: 'error',
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
  {
    files: ['eslint.config.js'],
    ...js.configs.recommended,
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
  },
];
