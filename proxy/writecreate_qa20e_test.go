package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestConditionalCreateSecondHeaderQA20E: If-None-Exist criteria in a
// second header, behind an empty first one, are refused as conditional
// creates are: Header.Get read the empty one, and the request went
// upstream with both.
func TestConditionalCreateSecondHeaderQA20E(t *testing.T) {
	t.Parallel()
	for name, values := range map[string][]string{
		"empty first":  {"", "code=F11.20"},
		"blank first":  {" ", "code=F11.20"},
		"one, padded":  {"  code=F11.20"},
		"only empties": nil, // sent as one empty header: forwarded
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := &writeUpstream{writes: make(chan string, 4)}
			h := newHarness(t, up.handler)
			req, _ := http.NewRequest(http.MethodPost, h.proxy.URL+"/fhir/Condition", strings.NewReader(conditionWith()))
			req.Header.Set("Authorization", "Bearer "+tokAll)
			req.Header.Set("Content-Type", "application/fhir+json")
			req.Header["If-None-Exist"] = values
			if values == nil {
				req.Header["If-None-Exist"] = []string{""}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if values == nil {
				if resp.StatusCode >= 300 || len(up.writes) != 1 {
					t.Fatalf("a create with an empty If-None-Exist: %d %s", resp.StatusCode, b)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || len(up.writes) != 0 {
				t.Fatalf("conditional create: %d %s, %d writes reached the upstream", resp.StatusCode, b, len(up.writes))
			}
		})
	}
}
