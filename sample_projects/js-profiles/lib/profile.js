import { fetchUser, NotFoundError } from './api.js';

export async function loadProfile(id, fetch = fetchUser) {
  const user = await fetch(id);
  return {
    id,
    displayName: `${user.first} ${user.last}`,
    initials: `${user.first[0]}${user.last[0]}`.toUpperCase(),
    isAdmin: user.roles.includes('admin'),
  };
}

/** Profiles for every id that exists, in input order; unknown ids are skipped. */
export async function loadProfiles(ids, fetch = fetchUser) {
  const results = await Promise.allSettled(ids.map((id) => loadProfile(id, fetch)));
  const profiles = [];
  for (const r of results) {
    if (r.status === 'fulfilled') profiles.push(r.value);
    else if (!(r.reason instanceof NotFoundError)) throw r.reason;
  }
  return profiles;
}
