package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestPatientMemberByDirectoryIdentifierQA43D (QA round 43, helper D): a
// Patient whose managingOrganization names the program's department u1 by
// identifier alone, or whose generalPractitioner names its role r1 so,
// went to org-b whole (200), telling the person is the program's patient
// (42 CFR 2.13(c)). The members are cut, silently, as ones naming u1 or r1
// by reference are; an ordinary unit's identifier stays.
func TestPatientMemberByDirectoryIdentifierQA43D(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],` +
		`"generalPractitioner":[{"reference":"Practitioner/gp"},` + qa43dIdent(qa43dRoleSys, qa43dRoleVal) + `,` + qa43dIdent(qa43dHospSys, qa43dHospVal) + `],` +
		`"managingOrganization":` + qa43dIdent(qa43dDeptSys, qa43dDeptVal) + `}`
	u := &qa43dUpstream{reads: map[string]string{"Patient/p1": pat}}
	h := newHarness(t, u.handler, withProgram)
	resp, body := h.get("/fhir/Patient/p1", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, qa43dDeptVal) || strings.Contains(body, qa43dRoleVal) ||
		!strings.Contains(body, qa43dHospVal) || !strings.Contains(body, "Practitioner/gp") || !strings.Contains(body, `"Doe"`) ||
		strings.Contains(body, "REDACTED") || strings.Contains(body, "42CFRPart2") {
		t.Errorf("org-b, Patient naming the program's department and role by identifier: %d %s, want 200 without them", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Patient/p1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, qa43dDeptVal) || !strings.Contains(body, qa43dRoleVal) {
		t.Errorf("consented: %d %s, want 200 whole", resp.StatusCode, body)
	}
}
