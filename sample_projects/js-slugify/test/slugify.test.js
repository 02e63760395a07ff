import { test } from 'node:test';
import assert from 'node:assert/strict';

import { slugify, uniqueSlug } from '../lib/index.js';

test('plain titles', () => {
  assert.equal(slugify('Hello World'), 'hello-world');
  assert.equal(slugify('  Release notes for v2.4.1  '), 'release-notes-for-v2-4-1');
});

test('accents and ligatures', () => {
  assert.equal(slugify('Héllo, Wörld & Friends!'), 'hello-world-and-friends');
  assert.equal(slugify('Straße'), 'strasse');
});

test('custom separator', () => {
  assert.equal(slugify('a b  c', { separator: '_' }), 'a_b_c');
});

test('long titles are cut without a trailing separator', () => {
  const slug = slugify('one two three four five six', { maxLength: 12 });
  assert.equal(slug, 'one-two-thre');
  assert.equal(slugify('abc def', { maxLength: 4 }), 'abc');
});

test('unique slugs get a counter', () => {
  const taken = new Set(['hello-world', 'hello-world-2']);
  assert.equal(uniqueSlug('Hello, world', taken), 'hello-world-3');
});
