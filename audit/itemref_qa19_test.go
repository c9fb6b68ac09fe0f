package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// TestDisclosedWithoutAnID: a resource disclosed without an id (an
// operation's result) is "Type (no id)" in the CSV and, in the AuditEvent,
// a Reference by type and display: before, both said "MeasureReport/", a
// reference that points nowhere (and invalid FHIR).
func TestDisclosedWithoutAnID(t *testing.T) {
	t.Parallel()
	e := sample(7, "Patient/a")
	e.Interaction = "operation"
	e.Disclosed = []Item{{Type: "MeasureReport", Labels: []string{}}, {Type: "Observation", ID: "o1", Version: "2", Labels: []string{}}}
	ae := AuditEventOf(e)
	if w := ae.Entity[1].What; w.Reference != "" || w.Type != "MeasureReport" || w.Display != "MeasureReport (no id)" {
		t.Errorf("entity of the resource without an id = %+v", *w)
	}
	if w := ae.Entity[2].What; w.Reference != "Observation/o1/_history/2" || w.Type != "" {
		t.Errorf("entity of Observation/o1 = %+v", *w)
	}
	b, _ := json.Marshal(ae)
	if strings.Contains(string(b), `/"`) {
		t.Errorf("a reference ends in a slash: %s", b)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Disclosure{DisclosureOf(e)}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || rows[1][11] != "MeasureReport (no id) Observation/o1/_history/2" {
		t.Errorf("disclosed cell = %q, %v", rows[1][11], err)
	}
}
