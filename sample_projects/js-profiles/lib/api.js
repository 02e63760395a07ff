import { setTimeout as sleep } from 'node:timers/promises';

export class NotFoundError extends Error {
  constructor(id) {
    super(`no user ${id}`);
    this.name = 'NotFoundError';
  }
}

// Stand-in for the account service: answers after a short delay, like the network would.
const USERS = new Map([
  ['u1', { first: 'Ada', last: 'Lovelace', roles: ['admin', 'dev'] }],
  ['u2', { first: 'Alan', last: 'Turing', roles: ['dev'] }],
  ['u3', { first: 'Grace', last: 'Hopper', roles: [] }],
]);

export async function fetchUser(id) {
  await sleep(2);
  const user = USERS.get(id);
  if (!user) throw new NotFoundError(id);
  return structuredClone(user);
}
