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
