package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// TestAccounting checks that only disclosures count, in time order, with
// the recipient filled from the break-the-glass record when the caller
// lacks it.
func TestAccounting(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	appendVaried(t, l, 12)
	withheldOnly := sample(13, "Patient/a")
	withheldOnly.Disclosed = nil
	bg := sample(14, "Patient/a")
	bg.Caller = Party{Subject: "device-7"}
	bg.BreakGlass = &BreakGlass{Reason: "overdose", Recipient: "Dr. Who", Affiliation: "Organization/er"}
	if err := l.Append(t.Context(), withheldOnly, bg); err != nil {
		t.Fatal(err)
	}
	ds, entries, err := l.Accounting(t.Context(), "Patient/a", at(2), at(20))
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, d := range ds {
		got = append(got, d.Seq)
	}
	if len(entries) != len(ds) || len(got) != 6 || got[0] != 3 || got[5] != 14 {
		t.Fatalf("accounting seqs = %v", got)
	}
	last := ds[5].Recipient
	if last.Name != "Dr. Who" || last.Organization != "Organization/er" || last.Subject != "device-7" {
		t.Errorf("break-the-glass recipient = %+v", last)
	}
	if _, _, err := l.Accounting(t.Context(), "", at(0), at(1)); err == nil {
		t.Error("an accounting without a patient succeeded")
	}
}

// TestWriteCSVDefusesFormulas checks quoting and that a cell a spreadsheet
// would evaluate is prefixed.
func TestWriteCSVDefusesFormulas(t *testing.T) {
	t.Parallel()
	e := sample(1, "Patient/a")
	e.Caller.Subject = "=HYPERLINK(\"http://x\")"
	e.Caller.Name = "Smith, \"Jo\"\nMD"
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Disclosure{DisclosureOf(e)}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("ReadAll = %v, %v", rows, err)
	}
	if rows[1][4] != "'=HYPERLINK(\"http://x\")" || rows[1][5] != "Smith, \"Jo\"\nMD" {
		t.Errorf("recipient cells = %q, %q", rows[1][4], rows[1][5])
	}
}

// TestAuditEventKinds checks the BALP profile, subtype and action by
// interaction, and that the JSON has no empty required elements.
func TestAuditEventKinds(t *testing.T) {
	t.Parallel()
	for interaction, want := range map[string][3]string{
		"read":      {balpPatientRead, "read", "R"},
		"vread":     {balpPatientRead, "vread", "R"},
		"search":    {balpPatientQuery, "search-type", "E"},
		"history":   {balpPatientQuery, "history-instance", "R"},
		"operation": {balpPatientQuery, "operation", "E"},
	} {
		e := sample(1, "Patient/a")
		e.Interaction = interaction
		ae := AuditEventOf(e)
		if ae.Meta.Profile[0] != want[0] || ae.Subtype[0].Code != want[1] || ae.Action != want[2] {
			t.Errorf("%s: %s %s %s", interaction, ae.Meta.Profile[0], ae.Subtype[0].Code, ae.Action)
		}
		b, _ := json.Marshal(ae)
		if strings.Contains(string(b), `""`) {
			t.Errorf("%s: empty string in %s", interaction, b)
		}
	}
}
