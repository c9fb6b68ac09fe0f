package consent

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestMirror checks that upstream consents are kept apart from local ones,
// replaced by id, moved between patients, cleared by a full round, and
// survive reopening the store.
func TestMirror(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openDB(t)
	s, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	m := s.Mirror()
	if es, at, err := m.Load(ctx); err != nil || len(es) != 0 || !at.IsZero() {
		t.Fatalf("empty mirror: %v %v %v", es, at, err)
	}
	t1 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := m.Apply(ctx, []MirrorEntry{
		{ID: "u1", Patient: "Patient/p1", JSON: []byte(`{"v":1}`)},
		{ID: "u2", Patient: "Patient/p1", JSON: []byte(`{"v":1}`)},
	}, true, t1); err != nil {
		t.Fatal(err)
	}
	if err := m.Apply(ctx, []MirrorEntry{{ID: "u2", Patient: "Patient/p2", JSON: []byte(`{"v":2}`)}}, false, t1.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p1, _ := m.ForPatient(ctx, "Patient/p1")
	p2, _ := m.ForPatient(ctx, "Patient/p2")
	if fmt.Sprint(ids(p1)) != "[u1]" || fmt.Sprint(ids(p2)) != "[u2]" || string(p2[0].JSON) != `{"v":2}` {
		t.Errorf("after the move: p1 %v p2 %v", ids(p1), ids(p2))
	}
	if recs, _ := s.ForPatient(ctx, "Patient/p1"); len(recs) != 0 {
		t.Errorf("mirrored consents leak into the local store: %d", len(recs))
	}
	s2, err := Open(db) // as after a restart
	if err != nil {
		t.Fatal(err)
	}
	es, at, err := s2.Mirror().Load(ctx)
	if err != nil || len(es) != 2 || !at.Equal(t1.Add(time.Minute)) {
		t.Errorf("reloaded: %d entries at %v, %v", len(es), at, err)
	}
	if err := m.Apply(ctx, []MirrorEntry{{ID: "u3", Patient: "Patient/p1", JSON: []byte(`{}`)}}, true, t1.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	es, _, _ = m.Load(ctx)
	if fmt.Sprint(ids(es)) != "[u3]" {
		t.Errorf("after a full round: %v", ids(es))
	}
}

func ids(es []MirrorEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// TestMirrorErrorsNameNoConsentID: the proxy logs the mirror's errors
// (reading the stored mirror at start), and a consent id can spell a
// patient's name (a PUT chooses it), so the errors do not carry it (QA
// round 17).
func TestMirrorErrorsNameNoConsentID(t *testing.T) {
	t.Parallel()
	s, err := Open(openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	const id = "jane-doe-1970-01-01-sud-consent"
	if _, err := s.Mirror().envelope(id, nil); err == nil || strings.Contains(err.Error(), id) {
		t.Fatalf("missing mirrored consent: %v", err)
	}
	if _, err := decodeEnvelope(id, 3, []byte("{not json}\n{}")); err == nil || strings.Contains(err.Error(), id) {
		t.Fatalf("undecodable header: %v", err)
	}
}
