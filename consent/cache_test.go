package consent

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestNormalizedCache checks that a patient's normalised consents are served
// from the cache until any of their consents changes, and reflect the change
// on the very next call.
func TestNormalizedCache(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	mustPut(t, s, consentOf(t, "Patient/p1", "a"))
	first, v1, err := s.Normalized(ctx, "Patient/p1")
	if err != nil || len(first) != 1 || v1 != 1 {
		t.Fatalf("Normalized = %d consents at v%d, %v; want 1 at v1", len(first), v1, err)
	}
	again, _, _ := s.Normalized(ctx, "Patient/p1")
	if &again[0] != &first[0] {
		t.Error("second call did not come from the cache")
	}
	steps := []struct {
		name   string
		change func()
		want   string // id:status of each consent
	}{
		{"new consent", func() { mustPut(t, s, consentOf(t, "Patient/p1", "b")) }, "[a:active b:active]"},
		{"revocation", func() {
			if _, _, err := s.Revoke(ctx, "a", ""); err != nil {
				t.Fatal(err)
			}
		}, "[a:inactive b:active]"},
		{"re-grant", func() { mustPut(t, s, consentOf(t, "Patient/p1", "a")) }, "[a:active b:active]"},
		{"entered in error", func() {
			if _, _, err := s.Revoke(ctx, "b", "entered-in-error"); err != nil {
				t.Fatal(err)
			}
		}, "[a:active b:entered-in-error]"},
	}
	for _, st := range steps {
		st.change()
		ns, _, err := s.Normalized(ctx, "Patient/p1")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range ns {
			got = append(got, n.ID+":"+n.Status)
		}
		if fmt.Sprint(got) != st.want {
			t.Errorf("after %s: Normalized = %v, want %s", st.name, got, st.want)
		}
	}
}

// TestNormalizedCacheBounded checks eviction of the least recently used
// patient, and that a disabled cache still answers.
func TestNormalizedCacheBounded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		size    int
		wantLen int
	}{
		{"bounded", 2, 2},
		{"disabled", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, WithCacheSize(tt.size))
			ctx := context.Background()
			for i := range 3 {
				p := fmt.Sprintf("Patient/p%d", i)
				mustPut(t, s, consentOf(t, p, fmt.Sprintf("c%d", i)))
				if ns, _, err := s.Normalized(ctx, p); err != nil || len(ns) != 1 || ns[0].Patient != p {
					t.Fatalf("Normalized(%s) = %+v, %v", p, ns, err)
				}
			}
			if n := s.cache.len(); n != tt.wantLen {
				t.Errorf("cache holds %d patients, want %d", n, tt.wantLen)
			}
			if tt.size > 0 {
				if _, ok := s.cache.get("Patient/p0", 1, 0); ok {
					t.Error("the least recently used patient was not evicted")
				}
				if _, ok := s.cache.get("Patient/p2", 1, 0); !ok {
					t.Error("the most recent patient was evicted")
				}
			}
		})
	}
}

// TestNormCacheKeepsNewest checks that a slow reader cannot replace a newer
// entry with an older one.
func TestNormCacheKeepsNewest(t *testing.T) {
	t.Parallel()
	c := newNormCache(4)
	c.add("Patient/p1", 5, 7, []Normalized{{ID: "new"}})
	c.add("Patient/p1", 4, 6, []Normalized{{ID: "old"}})
	if got, ok := c.get("Patient/p1", 5, 7); !ok || got[0].ID != "new" {
		t.Errorf("get(v5) = %v, %v; want the newer entry", got, ok)
	}
	if _, ok := c.get("Patient/p1", 4, 7); ok {
		t.Error("get(v4) hit an entry of another version")
	}
	// Current only at the write count of the read that found it.
	if got, v, ok := c.current("Patient/p1", 7); !ok || v != 5 || got[0].ID != "new" {
		t.Errorf("current(7) = %v, %d, %v; want the v5 entry", got, v, ok)
	}
	if _, _, ok := c.current("Patient/p1", 8); ok {
		t.Error("current(8) hit an entry read before the 8th write ended")
	}
	c.get("Patient/p1", 5, 8) // a later read found v5 still current
	if _, _, ok := c.current("Patient/p1", 8); !ok {
		t.Error("current(8) missed after a read at 8 confirmed the entry")
	}
}

// TestNormalizedSeesEveryEndedWrite: once Put or Revoke returns, every
// later Normalized sees it, whichever patient was read, and in between
// (no write) the answer comes without a read transaction.
func TestNormalizedSeesEveryEndedWrite(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	mustPut(t, s, consentOf(t, "Patient/p1", "a"))
	mustPut(t, s, consentOf(t, "Patient/p2", "b"))
	ns, v1, err := s.Normalized(ctx, "Patient/p1")
	if err != nil || len(ns) != 1 {
		t.Fatalf("Normalized = %v, %v", ns, err)
	}
	if _, _, ok := s.cache.current("Patient/p1", s.writes.Load()); !ok {
		t.Fatal("a read with no write since is not current")
	}
	// A write to another patient: p1 is read again and found unchanged.
	mustPut(t, s, consentOf(t, "Patient/p2", "c"))
	if _, _, ok := s.cache.current("Patient/p1", s.writes.Load()); ok {
		t.Fatal("an entry read before a write ended counts as current")
	}
	if ns, v, err := s.Normalized(ctx, "Patient/p1"); err != nil || len(ns) != 1 || v != v1 {
		t.Fatalf("after a write to p2: %d consents at v%d (want 1 at v%d), %v", len(ns), v, v1, err)
	}
	// Writes to p1: each is seen by the next call.
	for i := range 5 {
		mustPut(t, s, consentOf(t, "Patient/p1", fmt.Sprintf("n%d", i)))
		ns, v, err := s.Normalized(ctx, "Patient/p1")
		if err != nil || len(ns) != 2+i || v <= v1 {
			t.Fatalf("after write %d: %d consents at v%d, %v", i, len(ns), v, err)
		}
		v1 = v
	}
	if _, _, err := s.Revoke(ctx, "a", "inactive"); err != nil {
		t.Fatal(err)
	}
	ns, _, err = s.Normalized(ctx, "Patient/p1")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.ID == "a" && n.Status != "inactive" {
			t.Fatalf("the revoked consent reads %q", n.Status)
		}
	}
}

// TestNormalizedConcurrent runs readers and writers together (run with
// -race): every reader must see a consistent snapshot, never an error.
func TestNormalizedConcurrent(t *testing.T) {
	t.Parallel()
	s := newStore(t, WithCacheSize(2))
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				raw := consentOf(t, fmt.Sprintf("Patient/p%d", i%3), fmt.Sprintf("w%d-p%d", w, i%3))
				if _, err := s.Put(ctx, []byte(raw)); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for i := range 50 {
				ns, _, err := s.Normalized(ctx, fmt.Sprintf("Patient/p%d", i%3))
				if err != nil {
					t.Error(err)
				}
				for _, n := range ns {
					if n.Patient != fmt.Sprintf("Patient/p%d", i%3) {
						t.Errorf("consent of %s listed for another patient", n.Patient)
					}
				}
			}
		})
	}
	wg.Wait()
}
