package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
	"github.com/ds4p/ds4p/siem"
)

// qa19IdentitySetup is a proxy with the patient identifier system urn:mrn
// (none when system is "") and p1's Part 2 consent in front of an upstream
// answering bodies by path and Patient searches with patients(identifier),
// whose raw query it counts in searches.
func qa19IdentitySetup(t *testing.T, system string, bodies map[string]string, patients func(q url.Values) string, opts ...func(*Deps)) (*harness, *atomic.Int64) {
	t.Helper()
	var searches atomic.Int64
	hs := &harness{t: t, ledger: &fakeLedger{}, seen: make(chan *http.Request, 16)}
	hs.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := bodies[strings.TrimPrefix(r.URL.Path, "/fhir/R4")]; ok {
			fhirJSONHandler(http.StatusOK, b)(w, r)
			return
		}
		if r.URL.Path == "/fhir/R4/Patient" && patients != nil {
			searches.Add(1)
			fhirJSONHandler(http.StatusOK, patients(r.URL.Query()))(w, r)
			return
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}))
	t.Cleanup(hs.upstream.Close)
	u, _ := url.Parse(hs.upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Labeller: labels.Default(), Decider: eng, Ledger: hs.ledger, Auth: identityAuth{},
		Consents: &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {consentFor("Patient/p1")}}}}
	for _, opt := range opts {
		opt(&d)
	}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20}, d)
	if err != nil {
		t.Fatal(err)
	}
	if system != "" {
		if err := srv.UseConsentSources(context.Background(), ConsentSources{PatientIdentifierSystem: system, TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	ph := srv.Handler()
	hs.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ph.ServeHTTP(w, r)
		srv.Flush()
	}))
	t.Cleanup(hs.proxy.Close)
	return hs, &searches
}

func qa19Ident(system, value string) string {
	return `{"identifier":{"system":"` + system + `","value":"` + value + `"}}`
}

// p1Bundle answers a Patient search with p1 (urn:mrn|123) as its match.
const p1Bundle = `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"123"}]},"search":{"mode":"match"}}]}`

// TestIdentifierOfAnotherSystemWithheld: response data naming its patient
// by an identifier the proxy cannot resolve (another system, the system
// spelled otherwise, or any identifier when none is configured) belongs to
// a patient the proxy cannot tell, and is withheld from every caller: it
// was decided as data about no one, inside any patient token's compartment
// and under no patient's consents.
func TestIdentifierOfAnotherSystemWithheld(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/Observation/other":     withSubject(bpObs, qa19Ident("urn:other", "1")),
		"/Observation/upper":     withSubject(bpObs, qa19Ident("URN:MRN", "123")),
		"/Observation/performer": strings.Replace(withSubject(bpObs, qa19Ident("urn:ssn", "1")), `"status"`, `"performer":[{"reference":"Patient/p1"}],"status"`, 1),
		"/Observation/of-p1":     bpObs,
		"/Observation/p1-by-mrn": withSubject(bpObs, qa19Ident("urn:mrn", "123")),
	}
	patients := func(url.Values) string { return p1Bundle }
	for _, system := range []string{"urn:mrn", ""} {
		h, _ := qa19IdentitySetup(t, system, bodies, patients)
		type req struct {
			path, token string
			want        int
		}
		cases := []req{
			{"/fhir/Observation/other", tokConsented, http.StatusNotFound},
			{"/fhir/Observation/other", tokOther, http.StatusNotFound},
			{"/fhir/Observation/upper", tokConsented, http.StatusNotFound},
			{"/fhir/Observation/of-p1", tokConsented, http.StatusOK},
		}
		if system != "" {
			cases = append(cases,
				req{"/fhir/Observation/other", "pid:urn:mrn|123", http.StatusNotFound},
				req{"/fhir/Observation/performer", "pid:urn:mrn|123", http.StatusNotFound},
				req{"/fhir/Observation/of-p1", "pid:urn:mrn|123", http.StatusOK},
				req{"/fhir/Observation/p1-by-mrn", "pid:urn:mrn|123", http.StatusOK})
		} else {
			cases = append(cases, req{"/fhir/Observation/p1-by-mrn", tokConsented, http.StatusNotFound})
		}
		for _, tt := range cases {
			resp, body := h.get(tt.path, tt.token)
			if resp.StatusCode != tt.want {
				t.Errorf("system %q, %s as %s: %d %s, want %d", system, tt.path, tt.token, resp.StatusCode, body, tt.want)
			}
			if tt.want != http.StatusOK && strings.Contains(body, "valueQuantity") {
				t.Errorf("system %q, %s as %s: withheld data in the answer: %s", system, tt.path, tt.token, body)
			}
		}
		entries, _ := h.ledger.Find(context.Background(), audit.Query{})
		unnamed := 0
		for _, e := range entries {
			if len(e.Withheld) > 0 && e.Patient == "" {
				unnamed++
			}
		}
		// other (as each caller), upper, and p1-by-mrn without a system:
		// each withheld in an entry naming no patient.
		if want := 4; unnamed < want {
			t.Errorf("system %q: %d ledger entries withholding an unknown patient's item, want %d", system, unnamed, want)
		}
	}
}

// splitUnescaped splits s at each sep not escaped by a backslash, and
// unescapes the parts (FHIR search escaping).
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			if s[i] == sep {
				b.WriteByte('\\') // kept escaped for the next split
			}
			b.WriteByte(s[i])
		case s[i] == sep:
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(parts, b.String())
}

// TestIdentifierLookupNotTakenOnTrust: the Patient search that resolves an
// identifier escapes its value, and its answer binds a token (or gives
// response data a patient) only when it shows exactly one Patient that
// carries the identifier, has an id and was not replaced by another
// record; include'd Patients and OperationOutcome entries are no matches.
func TestIdentifierLookupNotTakenOnTrust(t *testing.T) {
	t.Parallel()
	patient := func(id, value, extra string) string {
		return `{"resource":{"resourceType":"Patient","id":"` + id + `","identifier":[{"system":"urn:mrn","value":"` + value + `"}]` + extra + `},"search":{"mode":"match"}}`
	}
	bundle := func(extra string, entries ...string) string {
		return `{"resourceType":"Bundle","type":"searchset"` + extra + `,"entry":[` + strings.Join(entries, ",") + `]}`
	}
	// A FHIR server's token search: ',' separates alternatives, '|'
	// the system from the value, '\' escapes either.
	db := map[string]string{"urn:mrn|123": "p1", "urn:mrn|456": "p2", "urn:mrn|7,8": "p1"}
	patients := func(q url.Values) string {
		param := q.Get("identifier")
		switch strings.TrimPrefix(param, "urn:mrn|") {
		case "loose":
			return bundle("", `{"resource":{"resourceType":"Patient","id":"p2","identifier":[{"system":"urn:other","value":"loose"}]},"search":{"mode":"match"}}`)
		case "paged":
			return bundle(`,"link":[{"relation":"next","url":"http://x/next"}]`, patient("p1", "paged", ""))
		case "pagedcase": // RFC 8288: relation types compare in any case
			return bundle(`,"link":[{"relation":"Next","url":"http://x/next"}]`, patient("p1", "pagedcase", ""))
		case "total":
			return bundle(`,"total":2`, patient("p1", "total", ""))
		case "noid":
			return bundle("", strings.Replace(patient("p1", "noid", ""), `"id":"p1",`, "", 1))
		case "merged":
			return bundle("", patient("p1", "merged", `,"link":[{"other":{"reference":"Patient/p2"},"type":"replaced-by"}]`))
		case "pair": // p1 merged into p2, both still carrying the MRN
			return bundle("", patient("p1", "pair", `,"active":false,"link":[{"other":{"reference":"Patient/p2"},"type":"replaced-by"}]`),
				patient("p2", "pair", `,"link":[{"other":{"reference":"Patient/p1"},"type":"replaces"}]`))
		case "incl":
			return bundle("", patient("p1", "incl", ""),
				`{"resource":{"resourceType":"Patient","id":"p2","identifier":[{"system":"urn:mrn","value":"incl"}]},"search":{"mode":"include"}}`,
				`{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"informational"}]},"search":{"mode":"outcome"}}`)
		}
		var entries []string
		for _, alt := range splitUnescaped(param, ',') {
			sv := splitUnescaped(alt, '|')
			if len(sv) != 2 {
				continue
			}
			sv[1] = strings.Join(splitUnescaped(sv[1], '|'), "|")
			if id, ok := db[sv[0]+"|"+sv[1]]; ok {
				entries = append(entries, patient(id, sv[1], ""))
			}
		}
		return bundle("", entries...)
	}
	bodies := map[string]string{
		"/Observation/of-p1":     bpObs,
		"/Observation/of-p2":     withSubject(bpObs, `{"reference":"Patient/p2"}`),
		"/Observation/mrn-comma": withSubject(bpObs, qa19Ident("urn:mrn", "123,999")),
		"/Observation/mrn-123":   withSubject(bpObs, qa19Ident("urn:mrn", "123")),
		"/Observation/mrn-loose": withSubject(bpObs, qa19Ident("urn:mrn", "loose")),
	}
	h, _ := qa19IdentitySetup(t, "urn:mrn", bodies, patients)
	for _, tt := range []struct {
		name, path, token string
		want              int
	}{
		{"plain match", "/fhir/Observation/of-p1", "pid:urn:mrn|123", http.StatusOK},
		{"plain match, another's data", "/fhir/Observation/of-p2", "pid:urn:mrn|123", http.StatusNotFound},
		{"match with an include and an outcome", "/fhir/Observation/of-p1", "pid:urn:mrn|incl", http.StatusOK},
		{"value with a comma", "/fhir/Observation/of-p1", "pid:urn:mrn|123,999", http.StatusUnauthorized},
		{"value with a comma, matched", "/fhir/Observation/of-p1", "pid:urn:mrn|7,8", http.StatusOK},
		{"match without the identifier", "/fhir/Observation/of-p2", "pid:urn:mrn|loose", http.StatusUnauthorized},
		{"a next page", "/fhir/Observation/of-p1", "pid:urn:mrn|paged", http.StatusUnauthorized},
		{"a Next page", "/fhir/Observation/of-p1", "pid:urn:mrn|pagedcase", http.StatusUnauthorized},
		{"total above the page", "/fhir/Observation/of-p1", "pid:urn:mrn|total", http.StatusUnauthorized},
		{"match without an id", "/fhir/Observation/of-p2", "pid:urn:mrn|noid", http.StatusUnauthorized},
		{"merged-away match", "/fhir/Observation/of-p1", "pid:urn:mrn|merged", http.StatusUnauthorized},
		{"merged pair: the survivor's data", "/fhir/Observation/of-p2", "pid:urn:mrn|pair", http.StatusOK},
		{"merged pair: the merged-away record's data", "/fhir/Observation/of-p1", "pid:urn:mrn|pair", http.StatusNotFound},
		{"data by MRN", "/fhir/Observation/mrn-123", "pid:urn:mrn|123", http.StatusOK},
		{"data by MRN with a comma", "/fhir/Observation/mrn-comma", "pid:urn:mrn|123", http.StatusNotFound},
		{"data by MRN matched loosely", "/fhir/Observation/mrn-loose", tokConsented, http.StatusNotFound},
	} {
		resp, body := h.get(tt.path, tt.token)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if tt.want != http.StatusOK && strings.Contains(body, "valueQuantity") {
			t.Errorf("%s: data in the answer: %s", tt.name, body)
		}
	}
}

// TestEdgeRefusesUnnamedClientCertificate: over a connection whose
// verified client certificate names no client, a bearer token is refused
// (401) saying so, instead of being served unbound to any client; one
// naming a client binds a token without a client to it.
func TestEdgeRefusesUnnamedClientCertificate(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(fhirJSONHandler(http.StatusOK, bpObs))
	t.Cleanup(up.Close)
	u, _ := url.Parse(up.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	ledger := &fakeLedger{}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: ledger, Auth: fakeAuth{},
			Consents: &fakeConsents{byPatient: map[string][]consent.Record{}}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(cn string) *httptest.ResponseRecorder {
		leaf := &x509.Certificate{Subject: pkix.Name{CommonName: cn}}
		req := httptest.NewRequest(http.MethodGet, "/fhir/Observation/bp1", nil)
		req.Header.Set("Authorization", "Bearer "+tokConsented)
		req.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{leaf},
			VerifiedChains: [][]*x509.Certificate{{leaf}}}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		srv.Flush()
		return rec
	}
	rec := get("")
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "names no client") || strings.Contains(rec.Body.String(), "valueQuantity") {
		t.Errorf("unnamed certificate: %d %s, want 401 saying it names no client", rec.Code, rec.Body)
	}
	if rec := get("app-a"); rec.Code != http.StatusOK {
		t.Errorf("named certificate: %d %s, want 200", rec.Code, rec.Body)
	}
	entries, _ := ledger.Find(context.Background(), audit.Query{})
	if len(entries) != 1 || entries[0].Caller.Client != "app-a" {
		t.Errorf("ledger: %+v, want one disclosure to client app-a", entries)
	}
}

// TestUnmatchedTokenPatientIsASecurityEvent: a token refused because its
// patient identifier matches no single patient queues a token-refused
// security event, as every other refused token does, naming neither the
// identifier nor the subject (a patient's own login).
func TestUnmatchedTokenPatientIsASecurityEvent(t *testing.T) {
	t.Parallel()
	ev := &recEvents{}
	h, _ := qa19IdentitySetup(t, "urn:mrn", map[string]string{"/Observation/of-p1": bpObs},
		func(url.Values) string { return `{"resourceType":"Bundle","type":"searchset"}` }, func(d *Deps) { d.Events = ev })
	resp, _ := h.get("/fhir/Observation/of-p1", "pid:urn:mrn|Zebulon42", "X-Request-Id", "unmatched-1")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if len(ev.evs) != 1 || ev.evs[0].Kind != siem.KindTokenRefused || ev.evs[0].RequestID != "unmatched-1" || ev.evs[0].Reason == "" {
		t.Fatalf("events %+v, want one token-refused event", ev.evs)
	}
	if e := ev.evs[0]; e.Subject != "" || e.Org != "Organization/org-a" || strings.Contains(e.Reason, "Zebulon42") {
		t.Errorf("event %+v: want the org, no subject, no identifier", e)
	}
}

// TestCompartmentUntoldSubject: a caller bound to a patient's compartment
// reads no resource whose subject may be a patient the proxy cannot tell
// (only a display, a urn:uuid, a bare id typed Patient, a Patient
// reference with an id no FHIR id is): it was read as data about no
// patient, inside every compartment. A subject of another type (a Group,
// by reference or by type) still names no patient, and a caller bound to
// no compartment is not concerned.
func TestCompartmentUntoldSubject(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{
		"/Observation/display":   withSubject(bpObs, `{"display":"Bob Jones"}`),
		"/Observation/urn":       withSubject(bpObs, `{"reference":"urn:uuid:0b7b5f8e-5d5c-4c0e-9d7e-1f2a3b4c5d6e"}`),
		"/Observation/bare":      withSubject(bpObs, `{"reference":"p2","type":"Patient"}`),
		"/Observation/bad-id":    withSubject(bpObs, `{"reference":"Patient/p_2"}`),
		"/Observation/group":     withSubject(bpObs, `{"reference":"Group/g1"}`),
		"/Observation/group-url": withSubject(bpObs, `{"reference":"https://fhir.example.org/r4/Group/g1/_history/3"}`),
		"/Observation/typed-urn": withSubject(bpObs, `{"reference":"urn:uuid:0b7b5f8e-5d5c-4c0e-9d7e-1f2a3b4c5d6e","type":"Device"}`),
		"/Observation/of-p1":     bpObs,
		"/Practitioner/dr":       `{"resourceType":"Practitioner","id":"dr","name":[{"family":"Who"}]}`,
	}
	h, _ := qa19IdentitySetup(t, "urn:mrn", bodies, func(url.Values) string { return p1Bundle })
	for _, tt := range []struct {
		path, token string
		want        int
	}{
		{"/fhir/Observation/display", "pid:urn:mrn|123", http.StatusNotFound},
		{"/fhir/Observation/urn", "pid:urn:mrn|123", http.StatusNotFound},
		{"/fhir/Observation/bare", "pid:urn:mrn|123", http.StatusNotFound},
		{"/fhir/Observation/bad-id", "pid:urn:mrn|123", http.StatusNotFound},
		{"/fhir/Observation/group", "pid:urn:mrn|123", http.StatusOK},
		{"/fhir/Observation/group-url", "pid:urn:mrn|123", http.StatusOK},
		{"/fhir/Observation/typed-urn", "pid:urn:mrn|123", http.StatusOK},
		{"/fhir/Observation/of-p1", "pid:urn:mrn|123", http.StatusOK},
		{"/fhir/Practitioner/dr", "pid:urn:mrn|123", http.StatusOK},
		{"/fhir/Observation/display", tokConsented, http.StatusOK},
	} {
		resp, body := h.get(tt.path, tt.token)
		if resp.StatusCode != tt.want {
			t.Errorf("%s as %s: %d %s, want %d", tt.path, tt.token, resp.StatusCode, body, tt.want)
		}
		if tt.want != http.StatusOK && strings.Contains(body, "valueQuantity") {
			t.Errorf("%s as %s: withheld data in the answer: %s", tt.path, tt.token, body)
		}
	}
}

// TestTokenPatientIdentifierRefusalSaysWhy: a token whose patient claim is
// an identifier the server does not resolve (no system configured, or
// another system) is refused saying so, not as a patient nobody has; the
// refusal names neither the identifier's value nor a patient.
func TestTokenPatientIdentifierRefusalSaysWhy(t *testing.T) {
	t.Parallel()
	none := func(url.Values) string { return `{"resourceType":"Bundle","type":"searchset"}` }
	body := map[string]string{"/Observation/of-p1": bpObs}
	withSystem, _ := qa19IdentitySetup(t, "urn:mrn", body, none)
	without, _ := qa19IdentitySetup(t, "", body, none)
	for _, tt := range []struct {
		name  string
		h     *harness
		token string
		want  string
	}{
		{"no such patient", withSystem, "pid:urn:mrn|Zebulon42", "matches no single patient"},
		{"another system", withSystem, "pid:urn:other|Zebulon42", "another system than urn:mrn"},
		{"no system configured", without, "pid:urn:mrn|Zebulon42", "patient_identifier_system is not set"},
	} {
		resp, body := tt.h.get("/fhir/Observation/of-p1", tt.token)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, tt.want) || strings.Contains(body, "Zebulon42") {
			t.Errorf("%s: %d %s, want 401 saying %q", tt.name, resp.StatusCode, body, tt.want)
		}
	}
}
