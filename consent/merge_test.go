package consent

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// upstreamCopy returns consent raw as the upstream would hold it: with id,
// meta.versionId and meta.lastUpdated.
func upstreamCopy(t *testing.T, raw, id, version, updated string) Normalized {
	t.Helper()
	raw = edit(t, raw, `"resourceType": "Consent",`,
		`"resourceType": "Consent", "id": "`+id+`", "meta": {"versionId": "`+version+`", "lastUpdated": "`+updated+`"},`)
	n, err := NormalizeUpstream([]byte(raw))
	if err != nil {
		t.Fatalf("NormalizeUpstream: %v", err)
	}
	return n
}

// summary lists the merged consents as id/status[/deny-only] with their
// rule types.
func summary(ns []Normalized) string {
	var out []string
	for _, n := range ns {
		s := n.ID + "/" + n.Status
		if n.DenyOnly {
			s += "/deny-only"
		}
		for _, r := range n.Rules {
			s += fmt.Sprintf(" %s@%d", r.Type, r.Depth)
		}
		out = append(out, s)
	}
	return fmt.Sprint(out)
}

// optOutConsent denies Observations to everyone: an opt-out with a
// criterion at its root.
const optOutConsent = `{
  "resourceType": "Consent",
  "status": "active",
  "patient": {"reference": "Patient/p1"},
  "identifier": [{"system": "urn:example:consents", "value": "42"}],
  "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
  "provision": {"class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Observation"}]}
}`

// TestMerge checks the rule for consents held both locally and upstream.
func TestMerge(t *testing.T) {
	t.Parallel()
	stored := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := newStore(t, WithClock(fixedClock(stored)))
	localTPO, err := Normalize(mustPut(t, s, consentOf(t, "Patient/p1", "c1")))
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, err := s.Revoke(t.Context(), "c1", "")
	if err != nil {
		t.Fatal(err)
	}
	localRevoked, err := Normalize(revoked)
	if err != nil {
		t.Fatal(err)
	}
	localOptOut, err := Normalize(mustPut(t, s, edit(t, optOutConsent, `"resourceType": "Consent",`, `"resourceType": "Consent", "id": "c2",`)))
	if err != nil {
		t.Fatal(err)
	}
	older, newer := "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z"
	tests := []struct {
		name            string
		local, upstream []Normalized
		want            string
	}{
		{"distinct consents all count", []Normalized{localTPO},
			[]Normalized{upstreamCopy(t, tpoConsent, "u9", "1", newer)},
			"[c1/active deny@0 permit@1 upstream:u9/active deny@0 permit@1]"},
		{"newer upstream copy wins; the local one adds no denial", []Normalized{localTPO},
			[]Normalized{upstreamCopy(t, tpoConsent, "c1", "7", newer)},
			"[upstream:c1/active deny@0 permit@1]"},
		{"older upstream copy loses", []Normalized{localTPO},
			[]Normalized{upstreamCopy(t, tpoConsent, "c1", "7", older)},
			"[c1/active deny@0 permit@1]"},
		{"local revocation wins over a newer upstream active copy", []Normalized{localRevoked},
			[]Normalized{upstreamCopy(t, tpoConsent, "c1", "7", newer)},
			"[c1/inactive deny@0 permit@1]"},
		{"the losing copy's opt-out still denies", []Normalized{localOptOut},
			[]Normalized{upstreamCopy(t, edit(t, optOutConsent, `"code": "OPTOUT"`, `"code": "OPTIN"`), "u5", "2", newer)},
			"[upstream:u5/active permit@0 c2/active/deny-only deny@0]"},
		{"an upstream revocation does not lift a local opt-out", []Normalized{localOptOut},
			[]Normalized{upstreamCopy(t, edit(t, optOutConsent, `"status": "active"`, `"status": "inactive"`), "c2", "3", newer)},
			"[upstream:c2/inactive deny@0 c2/active/deny-only deny@0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			merged := Merge(tt.local, tt.upstream)
			if got := summary(merged); got != tt.want {
				t.Errorf("Merge =\n %s\nwant\n %s", got, tt.want)
			}
			for _, n := range merged {
				if n.DenyOnly != strings.HasSuffix(n.Version, "+deny-only") {
					t.Errorf("%s: deny-only %v, version %q", n.ID, n.DenyOnly, n.Version)
				}
			}
		})
	}
}

// TestNormalizeUpstream checks the id, source and version of an upstream
// consent, and that an invalid one is refused.
func TestNormalizeUpstream(t *testing.T) {
	t.Parallel()
	n := upstreamCopy(t, tpoConsent, "abc", "v9", "2026-01-01T00:00:00Z")
	if n.ID != "upstream:abc" || n.Source != SourceUpstream || n.Version != "v9" {
		t.Errorf("got id %s source %s version %s", n.ID, n.Source, n.Version)
	}
	noMeta := edit(t, tpoConsent, `"resourceType": "Consent",`, `"resourceType": "Consent", "id": "abc",`)
	a, err := NormalizeUpstream([]byte(noMeta))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NormalizeUpstream([]byte(edit(t, noMeta, `"TREAT"`, `"ETREAT"`)))
	if err != nil {
		t.Fatal(err)
	}
	if a.Version == b.Version || a.Version[0] != 'h' {
		t.Errorf("versions without meta.versionId: %q and %q", a.Version, b.Version)
	}
	for name, raw := range map[string]string{
		"no id":      tpoConsent,
		"misspelt":   edit(t, noMeta, `"actor"`, `"actors"`),
		"not JSON":   `{"resourceType": "Consent",`,
		"wrong type": edit(t, noMeta, `"resourceType": "Consent"`, `"resourceType": "Patient"`),
	} {
		if _, err := NormalizeUpstream([]byte(raw)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestUnreadable checks the stand-in for an upstream consent that fails
// validation: it denies while it may be active, and is nothing when it is
// plainly not in force.
func TestUnreadable(t *testing.T) {
	t.Parallel()
	bad := edit(t, tpoConsent, `"actor"`, `"actors"`)
	n, ok := Unreadable([]byte(edit(t, bad, `"resourceType": "Consent",`, `"resourceType": "Consent", "id": "u1",`)))
	if !ok || n.ID != "upstream:u1" || n.Status != "active" || !n.Unreadable || summary([]Normalized{n}) != "[upstream:u1/active deny@0]" ||
		fmt.Sprint(n.Policies) != "[42CFRPart2]" {
		t.Errorf("stand-in %+v, %v", n, ok)
	}
	if _, ok := Unreadable([]byte(edit(t, bad, `"status": "active"`, `"status": "inactive"`))); ok {
		t.Error("an inactive unreadable consent gets a stand-in")
	}
	if n, ok := Unreadable([]byte(`{"resourceType":"Consent","status":7}`)); !ok || n.ID != "upstream:unreadable" {
		t.Errorf("a consent whose status cannot be read: %+v %v", n, ok)
	}
}
