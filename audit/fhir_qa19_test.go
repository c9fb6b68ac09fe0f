package audit

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAuditEventKindsOfWritesAndBatches: a write that returned the
// patient's data, a batch and a policy simulation are not queries: the
// AuditEvent says create (C), update/patch (U) or delete (D) with the BALP
// Patient profile of that action, and a batch or simulation names no BALP
// profile; a history or search says its level from the query's path.
// Before, every one of them was a PatientQuery search-type (E).
func TestAuditEventKindsOfWritesAndBatches(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		interaction, query, profile, subtype, action string
	}{
		{"create", "/Observation", balpPatientCreate, "create", "C"},
		{"update", "/Observation/o1", balpPatientUpdate, "update", "U"},
		{"patch", "/Observation/o1", balpPatientUpdate, "patch", "U"},
		{"delete", "/Observation/o1", balpPatientDelete, "delete", "D"},
		{"batch", "/", "", "batch", "E"},
		{"simulate", "/Observation?patient=a", "", "operation", "E"},
		{"history", "/Observation/_history", balpPatientQuery, "history-type", "R"},
		{"history", "/_history", balpPatientQuery, "history-system", "R"},
		{"history", "/Observation/o1/_history", balpPatientQuery, "history-instance", "R"},
		{"search", "/?_type=Observation", balpPatientQuery, "search-system", "E"},
		{"search", "/_search", balpPatientQuery, "search-system", "E"},
		{"search", "/Patient/a/Observation", balpPatientQuery, "search-type", "E"},
	} {
		e := sample(1, "Patient/a")
		e.Interaction, e.Query = c.interaction, c.query
		ae := AuditEventOf(e)
		profile := ""
		if len(ae.Meta.Profile) > 0 {
			profile = ae.Meta.Profile[0]
		}
		if profile != c.profile || ae.Subtype[0].Code != c.subtype || ae.Action != c.action {
			t.Errorf("%s %s: %q %s %s, want %q %s %s", c.interaction, c.query, profile, ae.Subtype[0].Code, ae.Action, c.profile, c.subtype, c.action)
		}
		b, _ := json.Marshal(ae)
		if strings.Contains(string(b), `""`) || strings.Contains(string(b), `null`) || strings.Contains(string(b), `"meta":{}`) {
			t.Errorf("%s: empty element in %s", c.interaction, b)
		}
	}
}
