#!/usr/bin/env bash
# Bug: the separator regex lost its /g flag, so only the first run of punctuation/spaces is replaced.
set -euo pipefail
cd "$(dirname "$0")"
sed -i 's|\.replace(/\[^a-z0-9\]+/g, separator);|.replace(/[^a-z0-9]+/, separator);|' lib/index.js
