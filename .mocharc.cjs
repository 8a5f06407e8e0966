// Mocha runs the TypeScript sources through tsx. tsx reads the tsconfig in the working
// directory; the root one is a solution file without compiler options, so point tsx at the
// shared base (experimentalDecorators for inversify's @inject parameters). Mocha re-spawns
// node with `node-option`, and the child inherits this environment.
process.env.TSX_TSCONFIG_PATH ??= require('node:path').join(__dirname, 'tsconfig.base.json');

module.exports = {
  'node-option': ['import=tsx/esm', 'conditions=source'],
  spec: ['packages/*/src/**/*.spec.ts', 'bench/src/**/*.spec.ts', 'test/**/*.test.ts'],
  ignore: ['**/node_modules/**', '**/dist/**'],
  timeout: 120000,
  // No `exit`: the suite ends by itself; test/support/leak-guard.cjs names leaked handles.
  require: ['test/support/leak-guard.cjs'],
  reporter: 'spec',
};
