import { test } from 'node:test';
import assert from 'node:assert/strict';

import { loadProfile, loadProfiles } from '../lib/profile.js';
import { NotFoundError } from '../lib/api.js';

test('builds a profile card', async () => {
  assert.deepEqual(await loadProfile('u1'), {
    id: 'u1',
    displayName: 'Ada Lovelace',
    initials: 'AL',
    isAdmin: true,
  });
});

test('unknown users reject with NotFoundError', async () => {
  await assert.rejects(loadProfile('nope'), NotFoundError);
});

test('batch loading skips unknown ids and keeps order', async () => {
  const profiles = await loadProfiles(['u3', 'zz', 'u2']);
  assert.deepEqual(profiles.map((p) => p.displayName), ['Grace Hopper', 'Alan Turing']);
  assert.equal(profiles.some((p) => p.isAdmin), false);
});

test('other fetch errors are not swallowed', async () => {
  const failing = async () => {
    throw new Error('service unavailable');
  };
  await assert.rejects(loadProfiles(['u1'], failing), /service unavailable/);
});
