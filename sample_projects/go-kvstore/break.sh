#!/usr/bin/env bash
# Bug: New no longer initialises the map (missing make), so the first Set panics with
# "assignment to entry in nil map".
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's/return &Store{data: make(map\[string\]entry), clock: clock}/return \&Store{clock: clock}/' store/store.go
