package consent

import (
	"testing"
	"time"
)

// TestMergeDatedAheadLosesToALaterRevocation: of a local and an upstream
// copy of one consent, the one the servers stored later wins, whatever
// the author's dateTime says. A local permit dated ahead (agreed
// "2026-06-01", stored 2026-03-01) beat its revocation stored upstream on
// 2026-04-01, so the revoked permit kept disclosing (QA round 30, area F).
func TestMergeDatedAheadLosesToALaterRevocation(t *testing.T) {
	t.Parallel()
	s := newStore(t, WithClock(fixedClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))))
	dated := edit(t, tpoConsent, `"dateTime": "2026-02-16"`, `"dateTime": "2026-06-01"`)
	local, err := Normalize(mustPut(t, s, dated))
	if err != nil {
		t.Fatal(err)
	}
	revoked := upstreamCopy(t, edit(t, dated, `"status": "active"`, `"status": "inactive"`), local.ID, "7", "2026-04-01T00:00:00Z")
	if got, want := summary(Merge([]Normalized{local}, []Normalized{revoked})), "[upstream:"+local.ID+"/inactive deny@0 permit@1]"; got != want {
		t.Fatalf("Merge = %s, want %s", got, want)
	}
}
