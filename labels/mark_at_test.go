package labels

import (
	"slices"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
)

// TestMarkEditsAtMatchesMarkEdits: given the members a caller located,
// MarkEditsAt returns the edits MarkEdits finds by scanning the Bundle.
func TestMarkEditsAtMatchesMarkEdits(t *testing.T) {
	t.Parallel()
	mark := NewSet(Label{System: SystemConfidentiality, Code: "R"}, Label{System: SystemActCode, Code: "SUD"})
	for _, bundle := range []string{
		`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p"}}]}`,
		`{"resourceType":"Bundle","id":"b1","entry":[]}`,
		`{"resourceType":"Bundle","id":"b1","meta":{"lastUpdated":"2026-01-01T00:00:00Z"},"entry":[]}`,
		`{"resourceType":"Bundle","meta":{},"entry":[]}`,
		`{"resourceType":"Bundle","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"},{"system":"urn:x","code":"y"}]},"entry":[]}`,
		`{"entry":[],"id":"late","resourceType":"Bundle"}`,
	} {
		for _, m := range []Set{mark, nil} {
			b := []byte(bundle)
			want, err := MarkEdits(b, m)
			if err != nil {
				t.Fatal(err)
			}
			meta, anchorStart, anchorEnd := -1, 0, 0
			_ = fjson.ObjectEach(b, 0, func(key []byte, s, e int) error {
				switch {
				case fjson.KeyIs(key, "meta"):
					meta = s
				case fjson.KeyIs(key, "id"), fjson.KeyIs(key, "resourceType"):
					if e > anchorEnd {
						anchorStart, anchorEnd = s, e
					}
				}
				return nil
			})
			got, err := MarkEditsAt(b, meta, anchorStart, anchorEnd, m)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, want, func(a, b fjson.Edit) bool {
				return a.Start == b.Start && a.End == b.End && string(a.Data) == string(b.Data)
			}) {
				t.Errorf("%s mark %v:\n got %v\nwant %v", bundle, m, got, want)
			}
		}
	}
}
