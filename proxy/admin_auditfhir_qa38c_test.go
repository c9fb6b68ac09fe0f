package proxy

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestAuditReadsExportAsFHIRQA38C (QA round 38, area C): the auditors'
// reads of the ledger (67faf46) were listed only as ledger JSON; no FHIR
// export held them (the accounting lists disclosures only), so a second
// auditor could not hand them to a FHIR audit repository. GET
// /admin/audit?format=fhir answers the page as a Bundle of IHE BALP
// AuditEvents, an auditor's read as a BALP (Patient)Query with its query
// entity, and the following page as the Bundle's next link.
func TestAuditReadsExportAsFHIRQA38C(t *testing.T) {
	t.Parallel()
	l := seededLedger(t)
	h := newHarness(t, fhirJSONHandler(200, `{}`), func(_ *Options, d *Deps) { d.Ledger = l })
	for _, q := range []string{"patient=Patient/p1", "recipient=Organization/org-b"} {
		if resp, body := h.get("/admin/audit?"+q, tokAdmin); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	type entity struct {
		What  *struct{ Reference string } `json:"what"`
		Role  struct{ Code string }       `json:"role"`
		Query string                      `json:"query"`
	}
	type bundle struct {
		ResourceType string
		Link         []struct{ Relation, URL string }
		Entry        []struct {
			Resource struct {
				Meta   struct{ Profile []string }
				Entity []entity
			}
		}
	}
	resp, body := h.get("/admin/audit?audit_reads=true&limit=1&format=fhir", tokAdmin)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/fhir+json") {
		t.Fatalf("format=fhir: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var b bundle
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	if b.ResourceType != "Bundle" || len(b.Entry) != 1 || len(b.Link) != 1 || b.Link[0].Relation != "next" {
		t.Fatalf("first page: %s", body)
	}
	ae := b.Entry[0].Resource
	if len(ae.Meta.Profile) != 1 || !strings.HasSuffix(ae.Meta.Profile[0], "IHE.BasicAudit.PatientQuery") {
		t.Errorf("the read of p1's entries: profile %v, want PatientQuery", ae.Meta.Profile)
	}
	var query, patient string
	for _, en := range ae.Entity {
		switch en.Role.Code {
		case "24":
			q, err := base64.StdEncoding.DecodeString(en.Query)
			if err != nil {
				t.Fatal(err)
			}
			query = string(q)
		case "1":
			patient = en.What.Reference
		}
	}
	if query != "admin/audit?patient=Patient/p1" || patient != "Patient/p1" {
		t.Errorf("query entity %q, patient %q", query, patient)
	}
	// The next link is the same request with the cursor, and leads on.
	next, err := url.Parse(b.Link[0].URL)
	if err != nil || next.Path != "/admin/audit" || next.Query().Get("format") != "fhir" || next.Query().Get("cursor") == "" {
		t.Fatalf("next link %q", b.Link[0].URL)
	}
	resp, body = h.get(b.Link[0].URL, tokAdmin)
	if err := json.Unmarshal([]byte(body), &b); err != nil || resp.StatusCode != http.StatusOK || len(b.Entry) != 1 {
		t.Fatalf("second page: %d %s", resp.StatusCode, body)
	}
	if p := b.Entry[0].Resource.Meta.Profile; len(p) != 1 || !strings.HasSuffix(p[0], "IHE.BasicAudit.Query") {
		t.Errorf("the read of org-b's entries: profile %v, want Query (no patient)", p)
	}
	if resp, body := h.get("/admin/audit?format=xml", tokAdmin); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "OperationOutcome") {
		t.Errorf("format=xml: %d %s", resp.StatusCode, body)
	}
}
