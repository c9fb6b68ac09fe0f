package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

var (
	confN   = labels.Label{System: labels.SystemConfidentiality, Code: "N"}
	confV   = labels.Label{System: labels.SystemConfidentiality, Code: "V"}
	hiv     = labels.Label{System: labels.SystemActCode, Code: "HIV"}
	legacyR = labels.Label{System: labels.LegacyConfidentiality, Code: "R"}
)

func TestNewSet(t *testing.T) {
	t.Parallel()
	s := labels.NewSet(labels.SUD, confN, labels.SUD, legacyR, hiv)
	want := labels.Set{hiv, labels.SUD, confN, labels.Restricted}
	if !s.Equal(want) {
		t.Fatalf("NewSet = %v, want %v", s, want)
	}
	if labels.NewSet() != nil {
		t.Fatal("NewSet() is not the empty set")
	}
}

func TestSetHas(t *testing.T) {
	t.Parallel()
	s := labels.NewSet(labels.SUD, labels.Restricted)
	tests := []struct {
		l    labels.Label
		want bool
	}{
		{labels.SUD, true},
		{labels.Restricted, true},
		{legacyR, true},
		{hiv, false},
		{labels.Label{}, false},
	}
	for _, tt := range tests {
		if got := s.Has(tt.l); got != tt.want {
			t.Errorf("Has(%v) = %v, want %v", tt.l, got, tt.want)
		}
	}
}

func TestSetUnion(t *testing.T) {
	t.Parallel()
	a := labels.NewSet(labels.SUD, confN)
	tests := []struct {
		name string
		s, o labels.Set
		want labels.Set
	}{
		{name: "disjoint", s: a, o: labels.NewSet(hiv), want: labels.NewSet(labels.SUD, confN, hiv)},
		{name: "overlap", s: a, o: labels.NewSet(labels.SUD, labels.Restricted), want: labels.NewSet(labels.SUD, confN, labels.Restricted)},
		{name: "subset", s: a, o: labels.NewSet(labels.SUD), want: a},
		{name: "empty left", s: nil, o: a, want: a},
		{name: "empty right", s: a, o: nil, want: a},
	}
	for _, tt := range tests {
		if got := tt.s.Union(tt.o); !got.Equal(tt.want) {
			t.Errorf("%s: Union = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := a.Union(labels.NewSet(hiv)); a.Has(hiv) || !got.Has(hiv) {
		t.Error("Union modified its receiver")
	}
}

func TestSetKey(t *testing.T) {
	t.Parallel()
	a := labels.NewSet(labels.SUD, labels.Restricted)
	b := labels.NewSet(legacyR, labels.SUD, labels.SUD)
	if a.Key() != b.Key() {
		t.Fatalf("equal sets have different keys: %q, %q", a.Key(), b.Key())
	}
	if want := labels.SystemActCode + "|SUD," + labels.SystemConfidentiality + "|R"; a.Key() != want {
		t.Fatalf("Key = %q, want %q", a.Key(), want)
	}
	if labels.NewSet(labels.SUD).Key() == a.Key() || labels.Set(nil).Key() != "" {
		t.Fatal("keys of different sets collide")
	}
	if got := labels.SUD.String(); got != labels.SystemActCode+"|SUD" {
		t.Fatalf("String = %q", got)
	}
}

func TestSetConfidentiality(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    labels.Set
		want string
		ok   bool
	}{
		{labels.NewSet(confN, labels.Restricted, labels.SUD), "R", true},
		{labels.NewSet(confV, labels.Restricted), "V", true},
		{labels.NewSet(legacyR), "R", true},
		{labels.NewSet(labels.SUD, hiv), "", false},
		{labels.NewSet(labels.Label{System: labels.SystemConfidentiality, Code: "X"}), "", false},
		{labels.NewSet(labels.Label{System: labels.SystemConfidentiality, Code: "U"}), "U", true},
		{nil, "", false},
	}
	for _, tt := range tests {
		got, ok := tt.s.Confidentiality()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%v.Confidentiality() = %q, %v; want %q, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConfidentialityRank(t *testing.T) {
	t.Parallel()
	order := []string{"U", "L", "M", "N", "R", "V"}
	for k, c := range order {
		if got := labels.ConfidentialityRank(c); got != k {
			t.Errorf("ConfidentialityRank(%q) = %d, want %d", c, got, k)
		}
	}
	for _, c := range []string{"", "r", "RV", "X"} {
		if got := labels.ConfidentialityRank(c); got != -1 {
			t.Errorf("ConfidentialityRank(%q) = %d, want -1", c, got)
		}
	}
}

func TestNormalizeSystem(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		labels.LegacyConfidentiality:  labels.SystemConfidentiality,
		labels.LegacyActCode:          labels.SystemActCode,
		labels.LegacyObservationValue: labels.SystemObservationValue,
		labels.LegacyActReason:        labels.SystemActReason,
		labels.SystemActCode:          labels.SystemActCode,
		"http://snomed.info/sct":      "http://snomed.info/sct",
		labels.OIDConfidentiality:     labels.SystemConfidentiality,
		labels.OIDActCode:             labels.SystemActCode,
		labels.OIDObservationValue:    labels.SystemObservationValue,
		labels.OIDActReason:           labels.SystemActReason,
		// package consent reads this one (v3-ObservationInterpretation's
		// OID) as v3-ObservationValue: labels must agree.
		"urn:oid:2.16.840.1.113883.5.83": labels.SystemObservationValue,
	}
	for in, want := range tests {
		if got := labels.NormalizeSystem(in); got != want {
			t.Errorf("NormalizeSystem(%q) = %q, want %q", in, got, want)
		}
	}
}

// Labels given by OID, or by a known code without a system, count as
// those labels: read as none, they left an SUD resource ordinary. Their
// entries stay as they came, and the labels are appended as ds4p writes
// them (Result.Respelt), so that a receiver comparing labels exactly sees
// them too; relabelling that output changes nothing.
func TestLabelOIDAndSystemlessLabels(t *testing.T) {
	t.Parallel()
	l, err := labels.New()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, security string
		want           []labels.Label
		respelt        bool
	}{
		{"OIDs", `[{"system":"urn:oid:2.16.840.1.113883.5.4","code":"42CFRPart2"},{"system":"urn:oid:2.16.840.1.113883.5.25","code":"R"}]`,
			[]labels.Label{labels.Part2Policy, labels.Restricted}, true},
		{"purpose and integrity OIDs", `[{"system":"urn:oid:2.16.840.1.113883.5.8","code":"TREAT"},{"system":"urn:oid:2.16.840.1.113883.5.1063","code":"REDACTED"}]`,
			[]labels.Label{{System: labels.SystemActReason, Code: "TREAT"}, {System: labels.SystemObservationValue, Code: "REDACTED"}}, true},
		{"no system", `[{"code":"SUD"},{"system":"","code":"V"},{"code":"NORDSCLCD"},{"code":"ETH"},{"code":"PSY"},{"code":"HIV"}]`,
			[]labels.Label{labels.SUD, {System: labels.SystemConfidentiality, Code: "V"}, labels.NoRedisclosure,
				{System: labels.SystemActCode, Code: "ETH"}, {System: labels.SystemActCode, Code: "PSY"}, {System: labels.SystemActCode, Code: "HIV"}}, true},
		{"unknown code without a system", `[{"code":"whatever"}]`, []labels.Label{{Code: "whatever"}}, false},
		{"as ds4p writes them", `[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},{"system":"urn:oid:2.16.840.1.113883.5.25","code":"R"}]`,
			[]labels.Label{labels.Restricted}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := []byte(`{"resourceType":"Observation","id":"o","meta":{"security":` + tt.security + `}}`)
			r, err := l.Label(in)
			if err != nil {
				t.Fatal(err)
			}
			for _, lb := range tt.want {
				if !r.Labels.Has(lb) || !r.Existing.Has(lb) {
					t.Errorf("labels %v, existing %v: want %v", r.Labels, r.Existing, lb)
				}
			}
			if len(r.Labels) != len(tt.want) || r.Changed != tt.respelt || r.Respelt != tt.respelt {
				t.Errorf("labels %v (changed %v, respelt %v), want exactly %v, respelt %v", r.Labels, r.Changed, r.Respelt, tt.want, tt.respelt)
			}
			edits, err := l.Edits(in, r)
			if err != nil {
				t.Fatal(err)
			}
			out, err := fjson.Apply(nil, in, edits)
			if err != nil {
				t.Fatal(err)
			}
			for _, lb := range tt.want {
				written := `"system":"` + lb.System + `","code":"` + lb.Code + `"`
				if lb.System == "" {
					written = `"code":"` + lb.Code + `"`
				}
				if !strings.Contains(string(out), written) || !strings.Contains(string(out), tt.security[1:len(tt.security)-1]) {
					t.Errorf("output %s: want %s written and the entries as they came", out, written)
				}
			}
			if again, err := l.Label(out); err != nil || again.Changed || !again.Existing.Equal(r.Labels) {
				t.Errorf("relabelled %s: changed %v, existing %v, %v", out, again.Changed, again.Existing, err)
			}
		})
	}
}
