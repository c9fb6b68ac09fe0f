package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Identifiers of the Part 2 program's department u1 (partOf the program
// p2) and of its role r1 (at u1), and of an ordinary hospital's unit h1.
const (
	qa43dDeptSys, qa43dDeptVal = "urn:oid:2.16.840.1.113883.3.777.9", "detox-1"
	qa43dRoleSys, qa43dRoleVal = "urn:oid:2.16.840.1.113883.3.777.8", "r-1"
	qa43dHospSys, qa43dHospVal = "urn:oid:2.16.840.1.113883.3.777.9", "cardio-3"
)

// qa43dIdent is a Reference by identifier only.
func qa43dIdent(sys, val string) string {
	return `{"identifier":{"system":"` + sys + `","value":"` + val + `"}}`
}

// qa43dUpstream answers reads of the directory, the records in reads, and
// searches of the directory by identifier (a searchset of the entries
// carrying it); it counts the searches by identifier.
type qa43dUpstream struct {
	mu       sync.Mutex
	searches []string
	reads    map[string]string
}

var qa43dDirectory = map[string]string{
	"Organization/p2": `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
	"Organization/u1": `{"resourceType":"Organization","id":"u1","name":"Detox","identifier":[{"system":"` + qa43dDeptSys + `","value":"` + qa43dDeptVal + `"}],"partOf":{"reference":"Organization/p2"}}`,
	"PractitionerRole/r1": `{"resourceType":"PractitionerRole","id":"r1","identifier":[{"system":"` + qa43dRoleSys + `","value":"` + qa43dRoleVal + `"}],` +
		`"organization":{"reference":"Organization/u1"}}`,
	"Organization/h1": `{"resourceType":"Organization","id":"h1","name":"Cardiology","identifier":[{"system":"` + qa43dHospSys + `","value":"` + qa43dHospVal + `"}],"partOf":{"reference":"Organization/h0"}}`,
	"Organization/h0": `{"resourceType":"Organization","id":"h0","name":"General"}`,
}

func (u *qa43dUpstream) handler(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
	if v, ok := u.reads[rest]; ok {
		fhirJSONHandler(http.StatusOK, v)(w, r)
		return
	}
	if v, ok := qa43dDirectory[rest]; ok {
		fhirJSONHandler(http.StatusOK, v)(w, r)
		return
	}
	if ident := r.URL.Query().Get("identifier"); ident != "" && !strings.Contains(rest, "/") && rest != "Patient" {
		u.mu.Lock()
		u.searches = append(u.searches, rest+"?"+r.URL.RawQuery)
		u.mu.Unlock()
		if strings.HasSuffix(ident, "|paged") {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"x"}],"entry":[]}`)(w, r)
			return
		}
		want := `","value":"` + ident + `"` // any system's
		if sys, val, ok := strings.Cut(ident, "|"); ok {
			want = `"system":"` + sys + `","value":"` + val + `"`
		}
		var entries []string
		for k, v := range qa43dDirectory {
			if strings.HasPrefix(k, rest+"/") && strings.Contains(v, want) {
				entries = append(entries, `{"fullUrl":"`+k+`","resource":`+v+`,"search":{"mode":"match"}}`)
			}
		}
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
		return
	}
	if rest == "Patient" {
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"},"search":{"mode":"match"}}]}`)(w, r)
		return
	}
	fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
}

// TestPatientSearchByDirectoryIdentifierQA43D (QA round 43, helper D):
// Patient?organization:identifier=<the department's identifier> (and
// general-practitioner:identifier=<its role's>) went upstream and listed
// the program's patients (200): only the program's own NPI was refused.
// Such a value is searched in the directory first and refused (403) when
// an entry carrying it stands for the program; an ordinary unit's is
// searched as before; a site without programs reads nothing more.
func TestPatientSearchByDirectoryIdentifierQA43D(t *testing.T) {
	t.Parallel()
	u := &qa43dUpstream{}
	h := newHarness(t, u.handler, withProgram)
	for _, q := range []string{
		"organization:identifier=" + url.QueryEscape(qa43dDeptSys+"|"+qa43dDeptVal),
		"organization=" + url.QueryEscape(qa43dDeptSys+"|"+qa43dDeptVal),
		"organization:identifier=" + qa43dDeptVal, // of any system
		"general-practitioner:identifier=" + url.QueryEscape(qa43dRoleSys+"|"+qa43dRoleVal),
		"general-practitioner:identifier=" + url.QueryEscape(qa43dHospSys+"|"+qa43dHospVal+","+qa43dDeptSys+"|"+qa43dDeptVal),
	} {
		if resp, body := h.get("/fhir/Patient?"+q, tokOther); resp.StatusCode != http.StatusForbidden {
			t.Errorf("Patient?%s: %d %s, want 403", q, resp.StatusCode, body)
		}
	}
	q := "organization:identifier=" + url.QueryEscape(qa43dHospSys+"|"+qa43dHospVal)
	if resp, body := h.get("/fhir/Patient?"+q, tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"p1"`) {
		t.Errorf("Patient?%s (an ordinary unit): %d %s, want 200", q, resp.StatusCode, body)
	}
	u2 := &qa43dUpstream{}
	h2 := newHarness(t, u2.handler)
	if resp, body := h2.get("/fhir/Patient?organization:identifier="+url.QueryEscape(qa43dDeptSys+"|"+qa43dDeptVal), tokOther); resp.StatusCode != http.StatusOK {
		t.Errorf("no programs: %d %s", resp.StatusCode, body)
	}
	if len(u2.searches) > 0 {
		t.Errorf("no programs: searched %v", u2.searches)
	}
}
