// Runs mocha-style test files (describe/it/before/after globals, node's assert) under
// `node --test`, so projects whose only dev dependency is mocha need nothing from npm.
const t = require('node:test');
for (const name of ['describe', 'it', 'before', 'after', 'beforeEach', 'afterEach']) {
  globalThis[name] = t[name];
}
globalThis.context = t.describe;
globalThis.specify = t.it;
