#!/usr/bin/env bash
# Bug: missing await on fetch(id) in loadProfile — `user` is a pending Promise, so
# user.roles is undefined -> TypeError.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/^  const user = await fetch(id);$/  const user = fetch(id);/' lib/profile.js
