package proxy

import (
	"testing"
	"time"
)

// TestItemFactsNestedDatesQA37B: the clinical date runs over the dates held
// in elements (a claim's items, a document's context) and the top-level
// dates of the other clinical resources, each element of a list counted;
// an element or a date among them that cannot be read leaves no date.
func TestItemFactsNestedDatesQA37B(t *testing.T) {
	t.Parallel()
	ns := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	cases := []struct {
		name, typ, body string
		start, end      string // "" for no clinical date
	}{
		{"claim items", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","created":"2021-01-15T10:00:00Z","item":[{"servicedDate":"2020-08-10T00:00:00Z"},{"servicedPeriod":{"start":"2020-09-01T00:00:00Z","end":"2020-09-02T00:00:00Z"}}],"addItem":[{"servicedDate":"2020-07-01T00:00:00Z"}]}`,
			"2020-07-01T00:00:00Z", "2021-01-15T10:00:01Z"},
		{"claim accident, an element not a list", "Claim",
			`{"resourceType":"Claim","created":"2021-01-15T10:00:00Z","accident":{"date":"2020-08-10T00:00:00Z"}}`,
			"2020-08-10T00:00:00Z", "2021-01-15T10:00:01Z"},
		{"a claim's addItem is no date of a Claim", "Claim",
			`{"resourceType":"Claim","created":"2021-01-15T10:00:00Z","addItem":[{"servicedDate":"2020-07-01T00:00:00Z"}]}`,
			"2021-01-15T10:00:00Z", "2021-01-15T10:00:01Z"},
		{"document context", "DocumentReference",
			`{"resourceType":"DocumentReference","date":"2021-02-01T00:00:00Z","context":{"period":{"start":"2020-09-01T00:00:00Z"}}}`,
			"2020-09-01T00:00:00Z", ""},
		{"appointment requested periods", "Appointment",
			`{"resourceType":"Appointment","requestedPeriod":[{"start":"2020-05-01T00:00:00Z","end":"2020-05-02T00:00:00Z"},{"start":"2020-08-01T00:00:00Z","end":"2020-08-02T00:00:00Z"}]}`,
			"2020-05-01T00:00:00Z", "2020-08-02T00:00:01Z"},
		{"questionnaire response authored", "QuestionnaireResponse",
			`{"resourceType":"QuestionnaireResponse","authored":"2020-08-01T00:00:00Z","item":[{"answer":[{"valueDate":"2010-01-01"}]}]}`,
			"2020-08-01T00:00:00Z", "2020-08-01T00:00:01Z"},
		{"a claim item's date that does not parse", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","created":"2021-01-15T10:00:00Z","item":[{"servicedDate":"2020-08-10T00:00:00Z"},{"servicedDate":"August"}]}`,
			"", ""},
		{"claim items that are no elements", "ExplanationOfBenefit",
			`{"resourceType":"ExplanationOfBenefit","created":"2021-01-15T10:00:00Z","item":["2020-08-10"]}`,
			"", ""},
		{"a list holding a date that does not parse", "Appointment",
			`{"resourceType":"Appointment","created":"2021-01-15T10:00:00Z","requestedPeriod":[{"start":"2020-05-01T00:00:00Z"},"soon"]}`,
			"", ""},
	}
	for _, c := range cases {
		f := itemFacts(factNeeds{date: true}, c.typ, "x1", []byte(c.body))
		if c.start == "" {
			if f.TimeNS != nil || f.TimeEndNS != nil {
				t.Errorf("%s: a clinical date %v-%v, want none", c.name, *f.TimeNS, *f.TimeEndNS)
			}
			continue
		}
		if f.TimeNS == nil || f.TimeEndNS == nil {
			t.Errorf("%s: no clinical date", c.name)
			continue
		}
		wantEnd := int64(0)
		if c.end == "" {
			wantEnd = 1<<63 - 1
		} else {
			wantEnd = ns(c.end)
		}
		if *f.TimeNS != ns(c.start) || *f.TimeEndNS != wantEnd {
			t.Errorf("%s: %s to %s, want %s to %s", c.name, time.Unix(0, *f.TimeNS).UTC(), time.Unix(0, *f.TimeEndNS).UTC(), c.start, c.end)
		}
	}
}
