#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'wordfreq/text.go' <<'__HEALTHY__'
package wordfreq

import (
	"strings"
	"unicode"
)

var stopWords = map[string]bool{"a": true, "an": true, "and": true, "of": true, "the": true, "to": true}

// Normalize lower-cases a word and trims surrounding punctuation; it returns "" for
// words that should not be counted.
func Normalize(word string) string {
	w := strings.ToLower(strings.TrimFunc(word, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}))
	if stopWords[w] {
		return ""
	}
	return w
}
__HEALTHY__
