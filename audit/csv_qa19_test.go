package audit

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// TestCSVDefusesNULAndLF: a cell starting with NUL or LF (a token claim
// can hold either) is prefixed with a quote like one starting with = + -
// @ tab or CR; before, only those six were.
func TestCSVDefusesNULAndLF(t *testing.T) {
	t.Parallel()
	e := sample(3, "Patient/a")
	e.Caller.Subject = "\x00=HYPERLINK(\"http://x\")"
	e.Caller.Name = "\n=1+1"
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Disclosure{DisclosureOf(e)}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("ReadAll = %q, %v", rows, err)
	}
	if rows[1][4] != "'"+e.Caller.Subject || rows[1][5] != "'"+e.Caller.Name {
		t.Errorf("recipient cells = %q, %q, want them prefixed with '", rows[1][4], rows[1][5])
	}
}
