package e2e

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func init() {
	register("Ledger", testLedgerQueriesAndAccounting)
}

// ledgerOrg is the organisation of the ledger scenario's caller; no other
// scenario uses it, so its entries are exactly this scenario's requests.
const ledgerOrg = "Organization/org-ledger-e2e"

// ledgerEntry is the part of a ledger entry the scenario reads.
type ledgerEntry struct {
	RequestID  string               `json:"request_id"`
	Patient    string               `json:"patient"`
	Purposes   []string             `json:"purposes"`
	Caller     struct{ Org string } `json:"caller"`
	BreakGlass *json.RawMessage     `json:"break_glass"`
}

// ledgerPage is the body of GET /admin/audit.
type ledgerPage struct {
	Entries []ledgerEntry `json:"entries"`
	Next    string        `json:"next"`
}

// testLedgerQueriesAndAccounting makes requests with known request ids and
// finds them through every query of /admin/audit and the accounting.
func testLedgerQueriesAndAccounting(t *testing.T, e *env) {
	token := e.mintToken(t, "--sub", "dr-ledger", "--org", ledgerOrg, "--purpose", "TREAT", "--scope", "user/*.rs")
	for id, path := range map[string]string{
		"ledger-e2e-1": "/fhir/Patient/" + strings.TrimPrefix(sudPatient, "Patient/"),
		"ledger-e2e-2": "/fhir/Patient/pat-1",
	} {
		if r := e.do(t, http.MethodGet, path, token, nil, "X-Request-Id", id); r.Status != http.StatusOK || r.Header.Get("X-Request-Id") != id {
			t.Fatalf("GET %s: %d (request id %q) %s", path, r.Status, r.Header.Get("X-Request-Id"), r.Body)
		}
	}
	rec := url.QueryEscape(ledgerOrg)
	ids := func(q string) map[string]bool {
		t.Helper()
		page := e.auditPage(t, "/admin/audit?"+q)
		out := map[string]bool{}
		for _, en := range page.Entries {
			out[en.RequestID] = true
		}
		return out
	}
	if got := ids("recipient=" + rec); !got["ledger-e2e-1"] || !got["ledger-e2e-2"] || len(got) != 2 {
		t.Errorf("by recipient: %v", got)
	}
	if got := ids("recipient=dr-ledger&patient=" + url.QueryEscape(sudPatient)); !got["ledger-e2e-1"] || len(got) != 1 {
		t.Errorf("by subject and patient: %v", got)
	}
	if got := ids("recipient=" + rec + "&purpose=HMARKT"); len(got) != 0 {
		t.Errorf("by recipient and a purpose it never stated: %v", got)
	}
	if got := ids("recipient=" + rec + "&purpose=TREAT&from=2000-01-01"); len(got) != 2 {
		t.Errorf("by recipient, purpose and time: %v", got)
	}
	for _, en := range e.auditPage(t, "/admin/audit?break_glass=true&limit=50").Entries {
		if en.BreakGlass == nil || string(*en.BreakGlass) == "null" {
			t.Errorf("break_glass=true returned an ordinary entry %s", en.RequestID)
		}
	}
	paged := map[string]bool{}
	for q, n := "recipient="+rec+"&limit=1", 0; ; n++ {
		page := e.auditPage(t, "/admin/audit?"+q)
		for _, en := range page.Entries {
			paged[en.RequestID] = true
		}
		if page.Next == "" || n > 5 {
			break
		}
		q = "recipient=" + rec + "&limit=1&cursor=" + url.QueryEscape(page.Next)
	}
	if len(paged) != 2 {
		t.Errorf("paging one at a time found %v", paged)
	}
	e.checkAccounting(t)
	if r := e.get(t, "/admin/audit?recipient="+rec+"&limit=5000", "admin"); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "OperationOutcome") {
		t.Errorf("limit=5000: %d %s", r.Status, r.Body)
	}
}

// auditPage GETs one page of /admin/audit as the auditor.
func (e *env) auditPage(t *testing.T, path string) ledgerPage {
	t.Helper()
	r := e.get(t, path, "admin")
	var page ledgerPage
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &page) != nil {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	return page
}

// checkAccounting reads the accounting of sudPatient in the three formats
// and finds the scenario's disclosure in each.
func (e *env) checkAccounting(t *testing.T) {
	base := "/admin/audit/accounting?patient=" + url.QueryEscape(sudPatient)
	r := e.get(t, base, "admin")
	var acc struct {
		Disclosures []struct {
			RequestID string `json:"request_id"`
			Recipient struct {
				Name, Organization string
			} `json:"recipient"`
			Description string   `json:"description"`
			Purposes    []string `json:"purposes"`
		} `json:"disclosures"`
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &acc) != nil {
		t.Fatalf("accounting json: %d %s", r.Status, r.Body)
	}
	found := false
	for _, d := range acc.Disclosures {
		if d.RequestID == "ledger-e2e-1" {
			found = d.Recipient.Organization == ledgerOrg && d.Recipient.Name == "dr-ledger" &&
				strings.Contains(d.Description, "1 Patient") && len(d.Purposes) == 1 && d.Purposes[0] == "TREAT"
			if !found {
				t.Errorf("accounting line = %+v", d)
			}
		}
	}
	if !found {
		t.Errorf("the accounting of %s lacks request ledger-e2e-1 (%d disclosures)", sudPatient, len(acc.Disclosures))
	}
	r = e.get(t, base+"&format=csv", "admin")
	rows, err := csv.NewReader(strings.NewReader(string(r.Body))).ReadAll()
	if r.Status != http.StatusOK || err != nil || len(rows) != len(acc.Disclosures)+1 || rows[0][0] != "date" {
		t.Errorf("accounting csv: %d, %v, %d rows for %d disclosures", r.Status, err, len(rows), len(acc.Disclosures))
	}
	r = e.get(t, base+"&format=fhir", "admin")
	var bundle struct {
		ResourceType, Type string
		Entry              []struct {
			Resource struct {
				ResourceType string
				Entity       []struct{ What struct{ Reference string } }
			}
		}
	}
	if r.Status != http.StatusOK || json.Unmarshal(r.Body, &bundle) != nil || bundle.ResourceType != "Bundle" || len(bundle.Entry) != len(acc.Disclosures) {
		t.Fatalf("accounting fhir: %d %.300s", r.Status, r.Body)
	}
	for _, en := range bundle.Entry {
		if en.Resource.ResourceType != "AuditEvent" || en.Resource.Entity[0].What.Reference != sudPatient {
			t.Errorf("AuditEvent %+v", en.Resource)
			break
		}
	}
}
