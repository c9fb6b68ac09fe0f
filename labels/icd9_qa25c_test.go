package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestICD9CMDiagnosesQA25C: a diagnosis recorded before October 2015 and
// still coded in ICD-9-CM (by its URL or OID, with or without the dot) is
// labelled as its ICD-10-CM counterpart is: no shipped rule read ICD-9-CM,
// so an old opioid dependence, HIV or depression diagnosis was disclosed as
// ordinary data. Tobacco use disorder (305.1), developmental and
// intellectual disability codes and other chapters stay ordinary.
func TestICD9CMDiagnosesQA25C(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	dx := func(system, code string) labels.Set {
		r, err := l.Label([]byte(`{"resourceType":"Condition","code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`))
		if err != nil {
			t.Fatalf("%s %s: %v", system, code, err)
		}
		return r.Labels
	}
	const icd9 = "http://hl7.org/fhir/sid/icd-9-cm"
	code := func(c string) labels.Label { return labels.Label{System: labels.SystemActCode, Code: c} }
	for _, c := range []struct {
		system, code string
		want         []labels.Label
	}{
		{icd9, "304.00", []labels.Label{labels.SUD, code("OPIOIDUD"), labels.Restricted}},
		{"urn:oid:2.16.840.1.113883.6.103", "30400", []labels.Label{labels.SUD, code("OPIOIDUD")}},
		{icd9, "303.90", []labels.Label{labels.SUD, code("ETHUD")}},
		{icd9, "305.50", []labels.Label{labels.SUD, code("OPIOIDUD")}},
		{icd9, "292.0", []labels.Label{labels.SUD}},
		{icd9, "648.34", []labels.Label{labels.SUD}},
		{icd9, "042", []labels.Label{code("HIV"), labels.Restricted}},
		{icd9, "v08", []labels.Label{code("HIV")}},
		{icd9, "079.53", []labels.Label{code("HIV")}},
		{icd9, "296.20", []labels.Label{code("MH"), labels.Restricted}},
		{icd9, "311", []labels.Label{code("MH")}},
		{icd9, "314.01", []labels.Label{code("MH")}},
		{icd9, "290.0", []labels.Label{code("MH")}},
	} {
		got := dx(c.system, c.code)
		for _, w := range c.want {
			if !got.Has(w) {
				t.Errorf("%s %s: labels %v lack %s", c.system, c.code, got, w.Code)
			}
		}
	}
	if got := dx(icd9, "V65.44"); !got.Has(code("HIV")) { // HIV counseling: HIV since QA round 32
		t.Errorf("V65.44: labels %v; want HIV", got)
	}
	for _, c := range []string{"305.1", "299.00", "315.9", "317", "401.9"} {
		if got := dx(icd9, c); len(got) != 0 {
			t.Errorf("%s: labels %v; want none", c, got)
		}
	}
}
