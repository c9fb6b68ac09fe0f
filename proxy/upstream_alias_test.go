package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// publicEHR is the base an EHR writes into its own resources and links
// when ds4p reaches it at another (the harness's loopback upstream).
const publicEHR = "https://ehr.example.org/fhir/R4"

func withAlias(o *Options, _ *Deps) {
	u, _ := url.Parse(publicEHR)
	o.UpstreamAliases = []*url.URL{u}
}

// An order whose reason names an SUD Condition under the EHR's public base
// is SUD information: with the base listed as an alias, the Condition is
// read before the order is labelled, and the order is withheld from a
// caller without consent as a missing one is. Without the alias (the
// control) the Condition is another server's, not read, and the order
// goes out unlabelled: the limit the alias closes.
func TestUpstreamAliasReferencesAreReadForLabels(t *testing.T) {
	t.Parallel()
	resources := func() map[string]string {
		return map[string]string{
			"MedicationRequest/mr1": orderFor("mr1", publicEHR+"/Condition/sud1"),
			"Condition/sud1":        sudCondition,
		}
	}
	up := newRouted(resources())
	h := newHarness(t, up.handle, withCache, withAlias)
	resp, body := h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("MedicationRequest", "mr1")) {
		t.Fatalf("order of an SUD condition named under the alias, caller without consent: %d %s", resp.StatusCode, body)
	}
	if n := up.readsOf("Condition/sud1"); n != 1 {
		t.Fatalf("Condition/sud1 read %d times, want once", n)
	}

	up2 := newRouted(resources())
	h2 := newHarness(t, up2.handle, withCache)
	if resp, body := h2.get("/fhir/MedicationRequest/mr1", tokOther); resp.StatusCode != http.StatusOK || up2.readsOf("Condition/sud1") != 0 {
		t.Fatalf("without the alias: %d %s, reads %d", resp.StatusCode, body, up2.readsOf("Condition/sud1"))
	}
}

// Page links and fullUrls under the alias are rewritten to the proxy as
// the upstream base's are; without the alias the links are dropped (paging
// lost) and the fullUrls keep naming the EHR.
func TestUpstreamAliasLinksAndFullURLsRewritten(t *testing.T) {
	t.Parallel()
	bundle := `{"resourceType":"Bundle","type":"searchset",` +
		`"link":[{"relation":"self","url":"` + publicEHR + `/Observation?code=8867-4"},{"relation":"next","url":"` + publicEHR + `/Observation?code=8867-4&_offset=1"}],` +
		`"entry":[{"fullUrl":"` + publicEHR + `/Observation/o1","resource":` + refsObs + `,"search":{"mode":"match"}}]}`
	up := fhirJSONHandler(200, bundle)

	h := newHarness(t, up, withAlias)
	resp, body := h.get("/fhir/Observation?code=8867-4", tokOther)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "ehr.example.org") {
		t.Fatalf("the EHR's public base is left in the answer: %s", body)
	}
	if n := strings.Count(body, h.proxy.URL+"/fhir/_page/"); n != 2 {
		t.Fatalf("want the self and next links as page links, got %d: %s", n, body)
	}
	if !strings.Contains(body, `"fullUrl":"`+h.proxy.URL+`/fhir/Observation/o1"`) {
		t.Fatalf("fullUrl not rewritten: %s", body)
	}

	h2 := newHarness(t, up)
	_, body = h2.get("/fhir/Observation?code=8867-4", tokOther)
	if strings.Contains(body, "/_page/") || !strings.Contains(body, `"fullUrl":"`+publicEHR+`/Observation/o1"`) {
		t.Fatalf("without the alias: links kept or fullUrl rewritten: %s", body)
	}
}

// A write naming a withheld target under the alias is refused as one
// naming a missing target is, and reaches nothing upstream; without the
// alias the reference was another server's and went unchecked.
func TestUpstreamAliasWriteReferencesChecked(t *testing.T) {
	t.Parallel()
	up := newRefUpstream()
	h := newHarness(t, up.handle, withAlias)
	r1, b1 := h.send(http.MethodPost, "/fhir/Observation", tokOtherWriter, "application/fhir+json", obsWithFocus(publicEHR+"/Condition/sud1"))
	r2, b2 := h.send(http.MethodPost, "/fhir/Observation", tokOtherWriter, "application/fhir+json", obsWithFocus(publicEHR+"/Condition/zz91"))
	if r1.StatusCode != 400 || r2.StatusCode != 400 || strings.ReplaceAll(b1, "sud1", "zz91") != b2 {
		t.Fatalf("withheld %d %s\nmissing %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	// In any case of scheme and host, as the upstream would resolve it.
	r3, b3 := h.send(http.MethodPost, "/fhir/Observation", tokOtherWriter, "application/fhir+json", obsWithFocus("HTTPS://EHR.Example.org/fhir/R4/Condition/sud1"))
	if r3.StatusCode != 400 || !strings.Contains(b3, "which is not known") {
		t.Fatalf("alias in another case: %d %s", r3.StatusCode, b3)
	}
	if n := up.writeCount(); n != 0 {
		t.Fatalf("a refused write reached the upstream: %v", up.writes)
	}
}

func TestUpstreamAliasValidated(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("http://ehr.internal:8080/fhir/R4")
	for raw, want := range map[string]string{
		"ftp://ehr.example.org/fhir":        "is not http or https",
		"https://ehr.example.org/fhir?x=1":  "query",
		"https://u:p@ehr.example.org/fhir":  "credentials",
		"/fhir/R4":                          "absolute",
		"https://ehr.example.org/fhir#frag": "fragment",
	} {
		a, _ := url.Parse(raw)
		err := Options{Upstream: u, UpstreamAliases: []*url.URL{a}}.Validate()
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "upstream_aliases") {
			t.Errorf("%s: %v, want an upstream_aliases error naming %q", raw, err, want)
		}
	}
	a, _ := url.Parse(publicEHR)
	if err := (Options{Upstream: u, UpstreamAliases: []*url.URL{a}}).Validate(); err != nil {
		t.Fatalf("a good alias: %v", err)
	}
}

// A fullUrl, a Location header and an entry's response location that
// spell the alias's server in another way RFC 3986 makes equal (scheme
// and host in another case, the default port written, the host's
// trailing dot) are rewritten to the proxy's base, as page links so
// spelled are (pageRel). Before, only the exact spelling was: the others
// were left naming the EHR (a fullUrl) or dropped (a Location).
func TestUpstreamAliasOtherSpellingsRewritten(t *testing.T) {
	t.Parallel()
	spellings := []string{
		"HTTPS://EHR.Example.ORG/fhir/R4",
		"https://ehr.example.org:443/fhir/R4",
		"https://ehr.example.org./fhir/R4",
	}
	for _, base := range spellings {
		bundle := `{"resourceType":"Bundle","type":"searchset",` +
			`"entry":[{"fullUrl":"` + base + `/Observation/o1","resource":` + refsObs + `,"search":{"mode":"match"}}]}`
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Location", base+"/Observation?code=8867-4")
			fhirJSONHandler(200, bundle)(w, r)
		}, withAlias)
		resp, body := h.get("/fhir/Observation?code=8867-4", tokOther)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: search: %d %s", base, resp.StatusCode, body)
		}
		if !strings.Contains(body, `"fullUrl":"`+h.proxy.URL+`/fhir/Observation/o1"`) || strings.Contains(strings.ToLower(body), "ehr.example.org") {
			t.Fatalf("%s: fullUrl not rewritten: %s", base, body)
		}
		if got, want := resp.Header.Get("Content-Location"), h.proxy.URL+"/fhir/Observation?code=8867-4"; got != want {
			t.Fatalf("%s: Content-Location %q, want %q", base, got, want)
		}
	}
	// Another port or path is another server's: left as written.
	other := "https://ehr.example.org:8443/fhir/R4/Observation/o1"
	bundle := `{"resourceType":"Bundle","type":"searchset",` +
		`"entry":[{"fullUrl":"` + other + `","resource":` + refsObs + `,"search":{"mode":"match"}}]}`
	h := newHarness(t, fhirJSONHandler(200, bundle), withAlias)
	if _, body := h.get("/fhir/Observation?code=8867-4", tokOther); !strings.Contains(body, `"fullUrl":"`+other+`"`) {
		t.Fatalf("another port's fullUrl rewritten: %s", body)
	}
}
