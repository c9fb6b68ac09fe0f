package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestRequestBodyTypeQA21C (QA round 21, area C): an operation's body of
// any media type but JSON went upstream unread ("the edge refuses formats
// it cannot inspect", which it did for Accept and _format only), so an XML
// Parameters to $validate carried a reference to a withheld Condition to a
// validator that resolves it, as the JSON one may not; and a body declared
// in another charset than UTF-8 was read by the guards as UTF-8 while a
// server decoding the charset reads other member names (UTF-7's +AG0-eta
// is meta). Neither reaches the upstream.
func TestRequestBodyTypeQA21C(t *testing.T) {
	t.Parallel()
	xmlParams := `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="resource"/><resource><Observation><status value="final"/><focus><reference value="Condition/sud1"/></focus></Observation></resource></parameter></Parameters>`
	cases := []struct{ name, method, path, ct, body string }{
		{"XML $validate", "POST", "/fhir/Observation/$validate", "application/fhir+xml", xmlParams},
		{"XML $validate as text", "POST", "/fhir/Observation/$validate", "text/plain", `{"resourceType":"Observation","focus":[{"reference":"Condition/sud1"}]}`},
		{"XML $validate without a Content-Type", "POST", "/fhir/Observation/$validate", "", xmlParams},
		{"XML create", "POST", "/fhir/Observation", "application/xml", `<Observation xmlns="http://hl7.org/fhir"/>`},
		{"XML patch", "PATCH", "/fhir/Condition/sud1", "application/xml-patch+xml", `<diff><remove sel="Condition/meta"/></diff>`},
		{"UTF-7 create", "POST", "/fhir/Observation", "application/fhir+json; charset=utf-7", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"+AG0-eta":{"security":[]}}`},
		{"Latin-1 update", "PUT", "/fhir/Condition/sud1", "application/fhir+json;charset=ISO-8859-1", storedSUD},
		{"two Content-Types", "POST", "/fhir/Observation", "", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := &writeUpstream{writes: make(chan string, 4)}
			h := newHarness(t, up.handler)
			var hdr []string
			if c.name == "two Content-Types" {
				hdr = []string{"Content-Type", "application/fhir+json"}
			}
			req, _ := http.NewRequest(c.method, h.proxy.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+tokAll)
			if c.ct != "" {
				req.Header.Set("Content-Type", c.ct)
			}
			if hdr != nil {
				req.Header["Content-Type"] = []string{"application/fhir+json", "application/fhir+xml"}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || len(up.writes) != 0 {
				t.Fatalf("%d, %d requests reached the upstream", resp.StatusCode, len(up.writes))
			}
		})
	}
	// JSON as clients send it still goes.
	for _, ct := range []string{"application/fhir+json", "application/json; charset=UTF-8", "application/fhir+json;charset=utf8", ""} {
		up := &writeUpstream{writes: make(chan string, 4)}
		h := newHarness(t, up.handler)
		resp, body := h.do("POST", "/fhir/Observation", tokAll, ct, `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`)
		if resp.StatusCode != 200 || len(up.writes) != 1 {
			t.Errorf("%q: %d %s", ct, resp.StatusCode, body)
		}
	}
}
