package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestUnknownConfidentialityReadsRestricted: a confidentiality label whose
// code ds4p does not know (X, "restricted", none, a code v3 retired in 2014
// such as C for celebrity or T for taboo) says the sender holds the data
// confidential; read as no confidentiality, as it was, the resource went
// out as ordinary data. It now reads as R, the default policy's restricted
// topic; a known code (N, V) and the retired topical codes that name an
// ActCode sensitivity (HIV) read as before.
func TestUnknownConfidentialityReadsRestricted(t *testing.T) {
	t.Parallel()
	const conf = labels.SystemConfidentiality
	for _, c := range []struct {
		label string
		want  string // the resource's confidentiality
		has   labels.Label
	}{
		{`{"system":"` + conf + `","code":"X"}`, "R", labels.Restricted},
		{`{"system":"` + conf + `","code":"restricted"}`, "R", labels.Restricted},
		{`{"system":"` + conf + `","code":"C"}`, "R", labels.Restricted},
		{`{"system":"` + conf + `","code":"T"}`, "R", labels.Restricted},
		{`{"system":"` + conf + `"}`, "R", labels.Restricted},
		{`{"system":"urn:oid:2.16.840.1.113883.5.25","code":"S"}`, "R", labels.Restricted},
		{`{"system":"` + conf + `","code":"N"}`, "N", labels.Label{System: conf, Code: "N"}},
		{`{"system":"` + conf + `","code":"V"}`, "V", labels.Label{System: conf, Code: "V"}},
		{`{"system":"` + conf + `","code":"HIV"}`, "", labels.Label{System: labels.SystemActCode, Code: "HIV"}},
	} {
		r, err := labels.Default().Label([]byte(`{"resourceType":"Basic","id":"b","meta":{"security":[` + c.label + `]}}`))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := r.Labels.Confidentiality(); got != c.want || !r.Labels.Has(c.has) {
			t.Errorf("label %s: confidentiality %q, labels %v; want %q and %v", c.label, got, r.Labels, c.want, c.has)
		}
	}
}
