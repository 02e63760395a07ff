#!/usr/bin/env bash
# Bug: Normalize was renamed to normalizeWord (unexported) in text.go, but its caller in
# count.go was not updated -> build failure "undefined: Normalize".
set -euo pipefail
cd "$(dirname "$0")"
sed -i -e 's/^\/\/ Normalize lower-cases/\/\/ normalizeWord lower-cases/' -e 's/^func Normalize(word string)/func normalizeWord(word string)/' wordfreq/text.go
