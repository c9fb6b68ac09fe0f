package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// baseServer fronts https://ehr.example/fhir, with the alias
// http://kaiser.example/base and the public base
// https://ds4p.example.org/fhir.
func baseServer(t *testing.T) *Server {
	t.Helper()
	up, _ := url.Parse("https://ehr.example/fhir")
	alias, _ := url.Parse("http://kaiser.example/base/")
	return &Server{opts: Options{Upstream: up, UpstreamAliases: []*url.URL{alias}, PublicBaseURL: "https://ds4p.example.org/fhir"}}
}

// rightOfAccessSpellings are absolute references to Patient/p1 and whether
// the right of access takes them as naming this server: equivalent
// spellings of the scheme and host (RFC 3986 6.2.2.1, 6.2.3) yes; another
// server, port or scheme, userinfo, any escape, dot segment, doubled
// slash, query or fragment, or a path in another case, no.
var rightOfAccessSpellings = map[string]bool{
	"https://ehr.example/fhir/Patient/p1":                  true,
	"https://ehr.example:443/fhir/Patient/p1":              true,
	"https://ehr.example:/fhir/Patient/p1":                 true, // an empty port is the default (6.2.3)
	"https://ehr.example./fhir/Patient/p1":                 true,
	"https://ehr.example.:443/fhir/Patient/p1":             true,
	"HTTPS://EHR.Example/fhir/Patient/p1":                  true,
	"HTTPS://EHR.EXAMPLE.:443/fhir/Patient/p1":             true,
	"http://kaiser.example/base/Patient/p1":                true,
	"http://KAISER.example:80/base/Patient/p1":             true,
	"https://ds4p.example.org:443/fhir/Patient/p1":         true,
	"https://ds4p.example.org./fhir/Patient/p1":            true,
	"https://other.example/fhir/Patient/p1":                false,
	"https://ehr.example.evil/fhir/Patient/p1":             false,
	"https://evil.example/ehr.example/fhir/Patient/p1":     false,
	"https://ehr.example:8443/fhir/Patient/p1":             false,
	"https://ehr.example:0443/fhir/Patient/p1":             false,
	"https://ehr.example:80/fhir/Patient/p1":               false,
	"http://ehr.example/fhir/Patient/p1":                   false,
	"http://ehr.example:443/fhir/Patient/p1":               false,
	"https://kaiser.example/base/Patient/p1":               false,
	"http://kaiser.example:443/base/Patient/p1":            false,
	"https://ehr.example../fhir/Patient/p1":                false,
	"https://.ehr.example/fhir/Patient/p1":                 false,
	"https://user@ehr.example/fhir/Patient/p1":             false,
	"https://user:pw@ehr.example:443/fhir/Patient/p1":      false,
	"https://ehr.example:443@evil.example/fhir/Patient/p1": false,
	"https://ehr%2Eexample/fhir/Patient/p1":                false,
	"https://\u212aaiser.example/base/Patient/p1":          false, // KELVIN SIGN folds to k
	"http://\u212aaiser.example/base/Patient/p1":           false,
	"https://ehr.example/FHIR/Patient/p1":                  false,
	"https://ehr.example/fhir/patient/p1":                  false,
	"https://ehr.example/fhir/Patient/P1":                  false,
	"https://ehr.example/fhir/../fhir/Patient/p1":          false,
	"https://ehr.example/other/../fhir/Patient/p1":         false,
	"https://ehr.example/fhir/Patient/../Patient/p1":       false,
	"https://ehr.example/fhir/./Patient/p1":                false,
	"https://ehr.example/fhir/Patient%2Fp1":                false,
	"https://ehr.example/fhir/%50atient/p1":                false,
	"https://ehr.example/f%68ir/Patient/p1":                false,
	"https://ehr.example//fhir/Patient/p1":                 false,
	"https://ehr.example/fhir//Patient/p1":                 false,
	"https://ehr.example/fhir/Patient/p1?x=1":              false,
	"https://ehr.example/fhir/Patient/p1?":                 false,
	"https://ehr.example/fhir/Patient/p1#x":                false,
	"https://ehr.example/fhir/Patient/p1#":                 false,
	"https://ehr.example\\@evil.example/fhir/Patient/p1":   false,
	"https://ehr.example /fhir/Patient/p1":                 false,
	"https:ehr.example/fhir/Patient/p1":                    false,
	"https:///fhir/Patient/p1":                             false,
}

// TestFHIRUserBaseSpellings: an absolute fhirUser names the patient when
// its base is this server's in any equivalent spelling of the scheme and
// host (an explicit default port, a trailing dot, another case), and only
// in a plain spelling: the others leave the caller an ordinary one.
func TestFHIRUserBaseSpellings(t *testing.T) {
	t.Parallel()
	s := baseServer(t)
	for ref, want := range rightOfAccessSpellings {
		// As authn would give it for a plain spelling, whatever authn
		// makes of the others: the base check stands on its own.
		c := authn.Caller{FHIRUser: "Patient/p1", FHIRUserURL: ref}
		s.checkFHIRUserBase(&c)
		if got := c.FHIRUser == "Patient/p1"; got != want {
			t.Errorf("fhirUser %q: the patient %v, want %v", ref, got, want)
		}
	}
}

// TestOwnPatientRefSpellings: a record's subject names the patient by an
// absolute reference under the same rule as fhirUser (the public base
// aside: records name the upstream), and a version of it.
func TestOwnPatientRefSpellings(t *testing.T) {
	t.Parallel()
	s := baseServer(t)
	s.opts.PublicBaseURL = ""
	for ref, want := range rightOfAccessSpellings {
		if u, err := url.Parse(ref); err == nil && strings.TrimSuffix(u.Hostname(), ".") == "ds4p.example.org" {
			want = false // the proxy's own base: no record names it
		}
		if got := s.ownPatientRef(ref, "Patient/p1"); got != want {
			t.Errorf("subject %q: the patient's own %v, want %v", ref, got, want)
		}
	}
	for ref, want := range map[string]bool{
		"https://ehr.example:443/fhir/Patient/p1/_history/2":     true,
		"HTTPS://ehr.example./fhir/Patient/p1/_history/2":        true,
		"https://ehr.example:443/fhir/Patient/p1/_history/../p2": false,
		"https://ehr.example:443/fhir/Patient/p1/_history/2#x":   false,
		"https://ehr.example:443/fhir/Patient/p12":               false,
	} {
		if got := s.ownPatientRef(ref, "Patient/p1"); got != want {
			t.Errorf("subject %q: the patient's own %v, want %v", ref, got, want)
		}
	}
}

// TestLocalPathSpellings: the other users of localPath (the labeller's
// targets, search-by-reference targets, a write's references) take the
// equivalent spellings as this server's too, so that what they check
// cannot be passed by spelling the upstream differently; and, as before,
// any spelling an upstream might resolve as its own (userinfo, a
// fragment), since for them local only means checked.
func TestLocalPathSpellings(t *testing.T) {
	t.Parallel()
	s := baseServer(t)
	for ref, want := range map[string]bool{
		"https://ehr.example:443/fhir/Condition/1":      true,
		"https://ehr.example./fhir/Condition/1":         true,
		"HTTPS://EHR.Example:/fhir/Condition/1":         true,
		"http://kaiser.example:80/base/Condition/1":     true,
		"https://user@ehr.example/fhir/Condition/1":     true,
		"https://ehr.example:8443/fhir/Condition/1":     false,
		"https://ehr.example../fhir/Condition/1":        false,
		"http://ehr.example:443/fhir/Condition/1":       false,
		"https://ds4p.example.org:443/fhir/Condition/1": false, // the proxy's base names no upstream resource
	} {
		if got := s.localReference(ref); got != want {
			t.Errorf("localReference(%q) = %v, want %v", ref, got, want)
		}
	}
	if typ, id, ok := s.searchRef("condition", "https://ehr.example.:443/fhir/Condition/c9", "https://ds4p.example.org/fhir"); !ok || typ+"/"+id != "Condition/c9" {
		t.Errorf("a search target spelled with :443 and a trailing dot is not checked: %q %q %v", typ, id, ok)
	}
	if _, _, ok := s.searchRef("condition", "https://ds4p.example.org:443/fhir/Condition/c9", "https://ds4p.example.org/fhir"); !ok {
		t.Errorf("a search target below the proxy's base spelled with :443 is not checked")
	}
}

// TestPatientReadsOwnRecordAtDefaultPort: through the proxy, a patient app
// whose fhirUser spells the configured public base with its default port
// (or a trailing dot) reads the patient's own Part 2 record; a fhirUser at
// another port, or with userinfo, is not the patient (404, as for any
// caller the consent does not name). A record whose subject spells the
// upstream's alias so is the patient's own.
func TestPatientReadsOwnRecordAtDefaultPort(t *testing.T) {
	t.Parallel()
	aliasSubject := func(id, ref string) string {
		return `{"resourceType":"Condition","id":"` + id + `","meta":{"security":[` +
			`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},` +
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"` + ref + `"}}`
	}
	bodies := map[string]string{
		"/fhir/R4/Condition/p2c":       part2Condition,
		"/fhir/R4/Condition/alias443":  aliasSubject("alias443", "https://EHR.example.:443/fhir/Patient/p1"),
		"/fhir/R4/Condition/alias8443": aliasSubject("alias8443", "https://ehr.example:8443/fhir/Patient/p1"),
		"/fhir/R4/Condition/aliasuser": aliasSubject("aliasuser", "https://p1@ehr.example/fhir/Patient/p1"),
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(b))
	}, func(o *Options, d *Deps) {
		alias, _ := url.Parse("https://ehr.example/fhir")
		d.Auth, o.PublicBaseURL, o.UpstreamAliases = selfAuth{}, "https://ds4p.example.org/fhir", []*url.URL{alias}
	})
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"fhirUser at the public base's default port", "/fhir/Condition/p2c", "https://ds4p.example.org:443/fhir/Patient/p1|PATRQT|p1", 200},
		{"fhirUser with a trailing dot, upper case", "/fhir/Condition/p2c", "HTTPS://DS4P.example.org./fhir/Patient/p1|PATRQT|p1", 200},
		{"fhirUser at another port", "/fhir/Condition/p2c", "https://ds4p.example.org:8443/fhir/Patient/p1|PATRQT|p1", 404},
		{"fhirUser with userinfo", "/fhir/Condition/p2c", "https://p1@ds4p.example.org/fhir/Patient/p1|PATRQT|p1", 404},
		{"fhirUser at the alias's default port", "/fhir/Condition/p2c", "https://ehr.example:443/fhir/Patient/p1|PATRQT|p1", 200},
		{"a subject at the alias's default port", "/fhir/Condition/alias443", "Patient/p1|PATRQT|p1", 200},
		{"a subject at another port of the alias", "/fhir/Condition/alias8443", "Patient/p1|PATRQT|p1", 404},
		{"a subject with userinfo", "/fhir/Condition/aliasuser", "Patient/p1|PATRQT|p1", 404},
	} {
		if resp, body := h.get(c.path, c.token); resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
	}
}

// TestPatientSideAsEdge: Server.PatientSide, which the web console asks at
// sign-in, counts a clinician's absolute fhirUser below every base the edge
// knows (the upstream, its aliases, public_base_url, in equivalent
// spellings) and no other: launched in a patient's context, a Practitioner
// of another server is the patient's token, which /admin refuses.
func TestPatientSideAsEdge(t *testing.T) {
	t.Parallel()
	s := baseServer(t)
	for fhirUser, patientSide := range map[string]bool{
		"https://ehr.example/fhir/Practitioner/dr":           false,
		"HTTPS://EHR.Example:443/fhir/Practitioner/dr":       false,
		"http://kaiser.example/base/Practitioner/dr":         false,
		"https://ds4p.example.org/fhir/Practitioner/dr":      false,
		"https://other.example/fhir/Practitioner/dr":         true,
		"https://ehr.example/other/Practitioner/dr":          true,
		"https://ehr.example:8443/fhir/Practitioner/dr":      true,
		"https://x@ehr.example/fhir/Practitioner/dr":         true,
		"https://ehr.example/fhir/Practitioner/dr?x=1":       true,
		"https://ehr.example/fhir/Practitioner/../Patient/p": true,
	} {
		c := authn.Caller{Patient: "p", FHIRUser: "Practitioner/dr", FHIRUserURL: fhirUser}
		if got := s.PatientSide(c); got != patientSide {
			t.Errorf("fhirUser %s in a patient's context: patient side %v, want %v", fhirUser, got, patientSide)
		}
	}
	if !s.PatientSide(authn.Caller{PatientUser: true, FHIRUser: "Patient/p"}) {
		t.Error("a patient's own token is not patient side")
	}
	if s.PatientSide(authn.Caller{FHIRUser: "Practitioner/dr", Patient: "p"}) {
		t.Error("a relative Practitioner fhirUser in a patient's context is patient side")
	}
}
