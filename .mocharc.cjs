// Mocha runs TypeScript through tsx; the root hooks in test/support/global.ts start the
// embedded engine (or use MONGODB_URI) and check Redis once for the whole run.
module.exports = {
  'node-option': ['import=tsx'],
  require: ['test/support/global.ts'],
  reporter: './test/support/totals-reporter.cjs',
  'forbid-only': true,
  timeout: 30000,
  exit: true,
};
