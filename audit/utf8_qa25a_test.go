package audit

import (
	"testing"
)

// TestInvalidUTF8StaysVerifiable: a string that is not valid UTF-8 (a raw
// byte a caller put in the query string, which Go's server passes on as
// it is, or in a header such as a break-the-glass reason) is stored, as
// encoding/json does, with U+FFFD escaped as \ufffd; decoded, that is a
// valid U+FFFD, which re-encodes unescaped. So verify reported "hash does
// not match the entry's content" at that entry, and since it stops at the
// first break, nothing after it was verified any more: one request made
// the ledger's tamper evidence useless. The entry was also unfindable by
// its recipient (its index keys held the raw bytes, its decoded caller
// U+FFFD). Append records such strings with each invalid byte replaced by
// U+FFFD, as encoding/json would, so entry, keys and JSON agree.
func TestInvalidUTF8StaysVerifiable(t *testing.T) {
	t.Parallel()
	for _, sealed := range []bool{false, true} {
		_, l, _ := newLedgerMaybeSealed(t, sealed)
		e := sample(1, "Patient/a")
		e.Query = "/Condition?code=\xfe"
		e.Caller.Subject = "Practitioner/dr\xff\xfe"
		e.Purposes = []string{"TREAT\xc3"}
		e.BreakGlass = &BreakGlass{Reason: "bleeding\xff"}
		e.Disclosed[0].Labels = append(e.Disclosed[0].Labels, "s|\xff")
		if err := l.Append(t.Context(), e, sample(2, "Patient/a")); err != nil {
			t.Fatal(err)
		}
		if n, err := l.Verify(t.Context()); err != nil || n != 2 {
			t.Errorf("sealed=%v: Verify of an entry with invalid UTF-8 and one after it = %d, %v; want both verified", sealed, n, err)
		}
		got, err := l.Find(t.Context(), Query{Recipient: "Practitioner/dr\uFFFD\uFFFD"})
		if err != nil || len(got) != 1 || got[0].Query != "/Condition?code=\uFFFD" || got[0].BreakGlass.Reason != "bleeding\uFFFD" {
			t.Errorf("sealed=%v: Find by the recorded recipient = %+v, %v", sealed, got, err)
		}
		if got, err := l.Find(t.Context(), Query{Purpose: "TREAT\uFFFD"}); err != nil || len(got) != 1 {
			t.Errorf("sealed=%v: Find by the recorded purpose = %d, %v", sealed, len(got), err)
		}
	}
}
