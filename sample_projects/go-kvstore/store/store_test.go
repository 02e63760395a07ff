package store

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func TestSetGet(t *testing.T) {
	s := New(nil)
	s.Set("user:1", "ada", 0)
	if v, ok := s.Get("user:1"); !ok || v != "ada" {
		t.Fatalf("Get = %q, %v; want ada, true", v, ok)
	}
	if _, ok := s.Get("missing"); ok {
		t.Fatal("Get(missing) reported a value")
	}
}

func TestExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
	s := New(clock.Now)
	s.Set("session", "abc", time.Minute)
	s.Set("forever", "x", 0)
	clock.Advance(59 * time.Second)
	if _, ok := s.Get("session"); !ok {
		t.Fatal("session expired too early")
	}
	clock.Advance(time.Second)
	if _, ok := s.Get("session"); ok {
		t.Fatal("session should have expired")
	}
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"forever"}) {
		t.Fatalf("Keys = %v", got)
	}
}

func TestLoad(t *testing.T) {
	s, err := Load(strings.NewReader("# cache seed\nb = 2\n\na=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Keys(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("Keys = %v", got)
	}
	if _, err := Load(strings.NewReader("novalue\n")); err == nil {
		t.Fatal("Load accepted a line without '='")
	}
}
