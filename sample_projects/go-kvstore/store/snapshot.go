package store

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Load reads "key=value" lines (blank lines and # comments skipped) into a new store whose
// entries never expire.
func Load(r io.Reader) (*Store, error) {
	s := New(nil)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) == "" {
			return nil, fmt.Errorf("line %d: want key=value, got %q", n, line)
		}
		s.Set(strings.TrimSpace(key), strings.TrimSpace(value), 0)
	}
	return s, sc.Err()
}
