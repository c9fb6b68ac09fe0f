package audit

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// TestAuditReadAsBALPQueryQA38C (QA round 38, area C): an auditor's read of
// the ledger (interaction audit-read, 67faf46) rendered as a PatientQuery
// search-type with no query entity, and, when the auditor named no patient,
// with a patient entity whose what was empty ({}): not what IHE BALP
// asks of a query. It is now a BALP Query (PatientQuery when the read was
// filtered by a patient, with that patient as the patient entity), subtype
// search, action E, whose query entity (type 2 System Object, role 24
// Query) holds the request as recorded, base64-encoded, and as its
// description; it names no disclosed resource.
func TestAuditReadAsBALPQueryQA38C(t *testing.T) {
	t.Parallel()
	read := func(patient, query string) Entry {
		return Entry{Seq: 7, Time: t0, RequestID: "req-7", Caller: Party{Subject: "Practitioner/aud1", Org: "Organization/ops", Client: "console"},
			Purposes: []string{}, Patient: patient, Interaction: AuditRead, Query: query}
	}
	for _, c := range []struct {
		e       Entry
		profile string
	}{
		{read("Patient/p1", "admin/audit?patient=Patient/p1&audit_reads=true"), balpPatientQuery},
		{read("Patient/p1", "admin/audit/accounting?patient=Patient/p1&format=fhir"), balpPatientQuery},
		{read("", "admin/audit?recipient=Organization/org-b&limit=1"), balpQuery},
		{read("", "console/api/audit/breakglass?cursor=&limit=50&unreviewed=false"), balpQuery},
	} {
		ae := AuditEventOf(c.e)
		if len(ae.Meta.Profile) != 1 || ae.Meta.Profile[0] != c.profile || ae.Subtype[0].Code != "search" || ae.Action != "E" {
			t.Errorf("%s: %v %v %s, want %s search E", c.e.Query, ae.Meta.Profile, ae.Subtype, ae.Action, c.profile)
		}
		var queries, patients int
		for _, en := range ae.Entity {
			switch {
			case en.Role != nil && en.Role.Code == "24":
				queries++
				if en.Type == nil || en.Type.Code != "2" || en.What != nil || string(en.Query) != c.e.Query || en.Description != c.e.Query {
					t.Errorf("%s: query entity %+v", c.e.Query, en)
				}
			case en.Role != nil && en.Role.Code == "1":
				patients++
				if en.What == nil || en.What.Reference != c.e.Patient || en.Type.Code != "1" {
					t.Errorf("%s: patient entity %+v", c.e.Query, en)
				}
			default:
				t.Errorf("%s: an entity other than the query and the patient: %+v", c.e.Query, en)
			}
		}
		if wantPatients := min(1, len(c.e.Patient)); queries != 1 || patients != wantPatients {
			t.Errorf("%s: %d query and %d patient entities, want 1 and %d", c.e.Query, queries, patients, wantPatients)
		}
		b, err := json.Marshal(ae)
		if err != nil {
			t.Fatal(err)
		}
		// base64Binary in JSON: the standard alphabet, padded.
		if !strings.Contains(string(b), `"query":"`+base64.StdEncoding.EncodeToString([]byte(c.e.Query))+`"`) {
			t.Errorf("%s: the query is not base64 in %s", c.e.Query, b)
		}
		if strings.Contains(string(b), `""`) || strings.Contains(string(b), `null`) || strings.Contains(string(b), `{}`) {
			t.Errorf("%s: empty element in %s", c.e.Query, b)
		}
	}
	// A disclosure's AuditEvent is unchanged: no query entity.
	for _, en := range AuditEventOf(sample(1, "Patient/a")).Entity {
		if en.Query != nil || en.Description != "" {
			t.Errorf("a search's AuditEvent has %+v", en)
		}
	}
}
