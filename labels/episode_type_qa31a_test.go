package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestEpisodeTypeSUDQA31A: HL7's episodeofcare-type code system (THO,
// CC0), the example binding of EpisodeOfCare.type, has da "Drug and
// alcohol rehabilitation". An episode of that type tells SUD treatment as
// an appointment of service-type 111 does (0598e60), yet it was ordinary;
// another type (hacc Home and Community Care) stays so.
func TestEpisodeTypeSUDQA31A(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	ep := func(code string) string {
		return `{"resourceType":"EpisodeOfCare","status":"active","type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/episodeofcare-type","code":"` + code + `"}]}],"patient":{"reference":"Patient/p1"}}`
	}
	for _, c := range []struct {
		name, in string
		sud      bool
	}{
		{"drug and alcohol rehabilitation", ep("da"), true},
		{"home and community care", ep("hacc"), false},
	} {
		r, err := l.Label([]byte(c.in))
		if err != nil || r.Labels.Has(labels.SUD) != c.sud {
			t.Errorf("%s: labels %v, %v; want SUD %v", c.name, r.Labels, err, c.sud)
		}
	}
}
