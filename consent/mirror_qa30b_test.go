package consent

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestMirrorGoneEntryQA30B: an incremental round's entry without a patient
// removes that consent from the stored mirror (its id and its patient's
// index), so that a restarted proxy does not load a version the upstream
// replaced by one no longer in force; the mirror's other consents stay, and
// a gone entry for an id the mirror does not hold changes nothing (QA round
// 30, area B).
func TestMirrorGoneEntryQA30B(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	m := s.Mirror()
	t1 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := m.Apply(ctx, []MirrorEntry{
		{ID: "u1", Patient: "Patient/p1", JSON: []byte(`{"v":1}`)},
		{ID: "u2", Patient: "Patient/p1", JSON: []byte(`{"v":1}`)},
	}, true, t1); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(ctx, []MirrorEntry{{ID: "u1"}, {ID: "u9"}}, false, t1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	all, _, err := m.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := m.ForPatient(ctx, "Patient/p1")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(all)) != "[u2]" || fmt.Sprint(ids(p1)) != "[u2]" {
		t.Errorf("after u1 went: mirror %v, p1 %v, want [u2]", ids(all), ids(p1))
	}
}
