// Package wordfreq counts word frequencies in running text.
package wordfreq

import (
	"sort"
	"strings"
)

// Entry is one word and the number of times it occurs.
type Entry struct {
	Word  string
	Count int
}

// Count returns how often each normalized word occurs in text.
func Count(text string) map[string]int {
	counts := make(map[string]int)
	for _, field := range strings.Fields(text) {
		if w := Normalize(field); w != "" {
			counts[w]++
		}
	}
	return counts
}

// Top returns the n most frequent words, ties broken alphabetically.
func Top(text string, n int) []Entry {
	entries := make([]Entry, 0)
	for w, c := range Count(text) {
		entries = append(entries, Entry{w, c})
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Count != entries[j].Count {
			return entries[i].Count > entries[j].Count
		}
		return entries[i].Word < entries[j].Word
	})
	if n < len(entries) {
		entries = entries[:n]
	}
	return entries
}
