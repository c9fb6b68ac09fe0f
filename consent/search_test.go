package consent

import (
	"context"
	"fmt"
	"net/url"
	"testing"
)

// TestParseQuery checks which parameters are accepted and that every bad one
// is reported.
func TestParseQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query     string
		wantPaths []string // problem paths; none means accepted
	}{
		{query: "patient=Patient/p1&status=active,inactive&actor=Organization/x&category=http://loinc.org|59284-0&period=ge2026-01-01&period=lt2027"},
		{query: "patient=p1"},
		{query: "_format=json"},
		{query: "patient=Group/g1", wantPaths: []string{"patient"}},
		{query: "patient=a,b", wantPaths: []string{"patient"}},
		{query: "status=activ", wantPaths: []string{"status"}},
		{query: "status=active&status=inactive", wantPaths: []string{"status"}},
		{query: "status=", wantPaths: []string{"status"}},
		{query: "statuss=active", wantPaths: []string{"statuss"}},
		{query: "_count=10", wantPaths: []string{"_count"}},
		{query: "period=xx2026", wantPaths: []string{"period"}},
		{query: "period=2026-13-01", wantPaths: []string{"period"}},
		{query: "statuss=active&period=bad&patient=Group/g", wantPaths: []string{"statuss", "period", "patient"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseQuery(v)
			if len(tt.wantPaths) == 0 {
				if err != nil {
					t.Errorf("ParseQuery: %v", err)
				}
				return
			}
			assertProblems(t, err, tt.wantPaths)
		})
	}
}

// searchFixture stores consents that differ in patient, status, actor,
// category and period.
func searchFixture(t *testing.T) *Store {
	t.Helper()
	s := newStore(t)
	// a: Patient/p1, active, Organization/x, LOINC 59284-0, 2026-02-16..2026-12-31.
	mustPut(t, s, consentOf(t, "Patient/p1", "a"))
	// b: Patient/p1, inactive, NPI actor, no category, no period.
	b := edit(t, consentOf(t, "Patient/p1", "b"), `"status": "active"`, `"status": "inactive"`)
	b = edit(t, b, `"reference": {"reference": "Organization/x"}`, `"reference": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}}`)
	b = edit(t, b, `"category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],`, ``)
	b = edit(t, b, `"period": {"start": "2026-02-16", "end": "2026-12-31"},`, ``)
	mustPut(t, s, b)
	// c: Patient/p2, active, Organization/y, category IDSCL, 2024 only.
	c := edit(t, consentOf(t, "Patient/p2", "c"), `"Organization/x"`, `"Organization/y"`)
	c = edit(t, c, `{"system": "http://loinc.org", "code": "59284-0"}`, `{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IDSCL"}`)
	c = edit(t, c, `"period": {"start": "2026-02-16", "end": "2026-12-31"}`, `"period": {"start": "2024-01-01", "end": "2024-12-31"}`)
	mustPut(t, s, c)
	return s
}

// TestSearch checks each parameter alone and combined.
func TestSearch(t *testing.T) {
	t.Parallel()
	s := searchFixture(t)
	tests := []struct {
		query string
		want  string
	}{
		{"", "[a b c]"},
		{"patient=Patient/p1", "[a b]"},
		{"patient=p2", "[c]"},
		{"patient=Patient/p3", "[]"},
		{"status=active", "[a c]"},
		{"status=inactive,entered-in-error", "[b]"},
		{"patient=p1&status=active", "[a]"},
		{"actor=Organization/x", "[a]"},
		{"actor=http://hl7.org/fhir/sid/us-npi|1234567893", "[b]"},
		{"actor=Organization/y,Organization/x", "[a c]"},
		{"actor=Organization/z", "[]"},
		{"category=59284-0", "[a]"},
		{"category=http://loinc.org|59284-0", "[a]"},
		{"category=http://loinc.org|", "[a]"},
		{"category=http://snomed.info/sct|59284-0", "[]"},
		{"category=http://terminology.hl7.org/CodeSystem/v3-ActCode|IDSCL,59284-0", "[a c]"},
		{"period=2026", "[a]"},           // eq: 2026 contains a's period
		{"period=2026-06", "[]"},         // eq: June does not contain a whole period
		{"period=ge2026-06-01", "[a b]"}, // a runs past June 1st; b is unbounded
		{"period=le2024-06-01", "[b c]"}, // c starts before; b is unbounded
		{"period=ge2026-01-01&period=le2026-12-31", "[a b]"},
		{"period=sa2025", "[a]"},         // starts after 2025
		{"period=eb2025", "[c]"},         // ends before 2025
		{"period=ap2024-06-15", "[b c]"}, // overlaps that day
		{"period=ne2026", "[b c]"},       // not contained in 2026
		{"period=gt2030", "[b]"},
		{"period=lt2000", "[b]"},
		{"patient=p1&actor=Organization/x&period=2026&status=active", "[a]"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			v, _ := url.ParseQuery(tt.query)
			q, err := ParseQuery(v)
			if err != nil {
				t.Fatal(err)
			}
			recs, err := s.Search(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, r := range recs {
				got = append(got, r.ID)
			}
			if fmt.Sprint(got) != tt.want {
				t.Errorf("Search(%s) = %v, want %s", tt.query, got, tt.want)
			}
		})
	}
}
