#!/usr/bin/env bash
# Restores the healthy state: rewrites every file break.sh edits with its original content.
set -euo pipefail
cd "$(dirname "$0")"
cat > 'store/store.go' <<'__HEALTHY__'
// Package store is an in-memory key/value store with per-key expiry, used as a test double
// for the session cache.
package store

import (
	"sort"
	"sync"
	"time"
)

type entry struct {
	value   string
	expires time.Time // zero: never
}

// Store is safe for concurrent use. Create it with New.
type Store struct {
	mu    sync.Mutex
	data  map[string]entry
	clock func() time.Time
}

// New returns an empty store; clock may be nil to use time.Now.
func New(clock func() time.Time) *Store {
	if clock == nil {
		clock = time.Now
	}
	return &Store{data: make(map[string]entry), clock: clock}
}

// Set stores value under key; ttl <= 0 means the entry never expires.
func (s *Store) Set(key, value string, ttl time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := entry{value: value}
	if ttl > 0 {
		e.expires = s.clock().Add(ttl)
	}
	s.data[key] = e
}

// Get returns the value and whether a live entry exists.
func (s *Store) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.data[key]
	if !ok || s.expired(e) {
		return "", false
	}
	return e.value, true
}

func (s *Store) expired(e entry) bool {
	return !e.expires.IsZero() && !s.clock().Before(e.expires)
}

// Keys lists live keys in sorted order.
func (s *Store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.data))
	for k, e := range s.data {
		if !s.expired(e) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
__HEALTHY__
