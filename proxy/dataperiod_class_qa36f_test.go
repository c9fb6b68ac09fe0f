package proxy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
)

// TestDataPeriodClassKeysTheWholeSpanQA36F: two versions of one Condition
// whose clinical dates begin at the same instant but end apart share the
// facts of everything but time_end_ns. The response's class key kept only
// time_ns, so in Condition/sud1's history (newest first) version 1, abated in
// the second half of 2020 that p1's consent refuses org-a, took version 2's
// permit and org-a read it: when, in the refused months, the condition was
// abated.
func TestDataPeriodClassKeysTheWholeSpanQA36F(t *testing.T) {
	t.Parallel()
	version := func(v, dates string) string {
		s := strings.Replace(sudCondition, `"versionId":"3"`, `"versionId":"`+v+`"`, 1)
		return strings.Replace(s, `"code":{`, dates+`,"code":{`, 1)
	}
	v2 := version("2", `"onsetDateTime":"2019-03-01T00:00:00Z"`)
	v1 := version("1", `"onsetDateTime":"2019-03-01T00:00:00Z","abatementDateTime":"2020-09-01T10:00:00Z"`)
	history := `{"resourceType":"Bundle","type":"history","entry":[` +
		`{"fullUrl":"http://upstream/fhir/Condition/sud1","resource":` + v2 + `,"request":{"method":"PUT","url":"Condition/sud1"}},` +
		`{"fullUrl":"http://upstream/fhir/Condition/sud1","resource":` + v1 + `,"request":{"method":"POST","url":"Condition"}}]}`
	h := newHarness(t, currentReads(fhirJSONHandler(200, history), currentOf(v2)), func(_ *Options, d *Deps) {
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {dataPeriodConsent()}}}
	})
	resp, body := h.get("/fhir/Condition/sud1/_history", tokConsented)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("org-a's history of Condition/sud1: %d: %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "abatementDateTime") || strings.Contains(body, "2020-09-01") {
		t.Errorf("org-a read the version of Condition/sud1 abated in the refused months: %s", body)
	}
	if !strings.Contains(body, `"versionId":"2"`) {
		t.Errorf("org-a lost the version dated wholly before the refused months: %s", body)
	}
}

// TestFactsKeyCoversEveryFact: the response's class key tells apart any two
// items whose policy facts differ in one field, whatever field a later
// change adds to policy.ItemFacts (QA round 36: time_end_ns was added to
// the engine's key but not to this one, and two versions of a record
// shared a decision).
func TestFactsKeyCoversEveryFact(t *testing.T) {
	t.Parallel()
	base := func() *policy.ItemFacts {
		a, b := int64(1), int64(2)
		return &policy.ItemFacts{Codes: []string{"s|c"}, Reference: "Condition/c1", TimeNS: &a, TimeEndNS: &b}
	}
	typ := reflect.TypeOf(policy.ItemFacts{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		changed := base()
		v := reflect.ValueOf(changed).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Slice:
			v.Set(reflect.Append(v, reflect.ValueOf("t|d")))
		case reflect.Pointer:
			n := int64(99)
			v.Set(reflect.ValueOf(&n))
		default:
			t.Fatalf("ItemFacts.%s is a %s: teach this test (and factsKey) to vary it", f.Name, v.Kind())
		}
		if factsKey(changed) == factsKey(base()) {
			t.Errorf("factsKey ignores ItemFacts.%s", f.Name)
		}
	}
}
