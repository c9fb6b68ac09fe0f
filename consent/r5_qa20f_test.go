package consent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestR5RevokeRejectedWritesNotDone: revoking an R5 consent with status
// rejected stores R5's not-done (read as rejected), not R4's "rejected",
// which made the stored R5 resource one no R5 reader accepts (QA round 20).
// An R5 consent written with an R4-only status is refused.
func TestR5RevokeRejectedWritesNotDone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join("testdata", "r5", "optout.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	mustPut(t, s, string(raw))
	rec, changed, err := s.Revoke(ctx, "r5-optout", "rejected")
	if err != nil || !changed {
		t.Fatalf("Revoke: %v, %v", changed, err)
	}
	var got struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(rec.JSON, &got); err != nil || got.Status != "not-done" {
		t.Errorf("stored R5 status %q (%v), want not-done", got.Status, err)
	}
	if rec.Status != "rejected" {
		t.Errorf("record status %q, want rejected (the R4 reading)", rec.Status)
	}
	if n, err := Normalize(rec); err != nil || n.Status != "rejected" {
		t.Errorf("normalised: %q, %v", n.Status, err)
	}
	if _, changed, err := s.Revoke(ctx, "r5-optout", "rejected"); err != nil || changed {
		t.Errorf("revoking again: changed %v, %v", changed, err)
	}
	// An R4 consent keeps R4's rejected.
	r4 := mustPut(t, s, strings.Replace(tpoConsent, `"status": "active",`, `"id": "r4c", "status": "active",`, 1))
	rec, _, err = s.Revoke(ctx, r4.ID, "rejected")
	if err != nil || !strings.Contains(string(rec.JSON), `"status":"rejected"`) {
		t.Errorf("R4 revoke: %s, %v", rec.JSON, err)
	}

	for _, st := range []string{"proposed", "rejected"} {
		bad := strings.Replace(string(raw), `"status": "active"`, `"status": "`+st+`"`, 1)
		_, err := Validate([]byte(bad))
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "Consent.status") {
			t.Errorf("R5 consent with status %s: %v", st, err)
		}
	}
	for _, st := range []string{"not-done", "unknown", "draft", "inactive", "entered-in-error"} {
		ok := strings.Replace(string(raw), `"status": "active"`, `"status": "`+st+`"`, 1)
		if _, err := Validate([]byte(ok)); err != nil {
			t.Errorf("R5 consent with status %s: %v", st, err)
		}
	}
}
