package proxy

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hapiPaging makes u's upstream page its Consent search and type history
// as HAPI FHIR does: the next link is a handle at the server's base
// (http://hapi.example/fhir/R4?_getpages=<id>&_getpagesoffset=<n>), which
// it answers at its base only, and that nowhere else. handle names the
// handle's parameter (_getpages; another name is a link ds4p must not
// follow).
func hapiPaging(u *upstreamSetup, handle string) {
	const per = 2
	page := func(w http.ResponseWriter, typ string, entries []string, from int, id string) {
		to := min(len(entries), from+per)
		var b strings.Builder
		fmt.Fprintf(&b, `{"resourceType":"Bundle","type":%q`, typ)
		if to < len(entries) {
			fmt.Fprintf(&b, `,"link":[{"relation":"next","url":"http://hapi.example/fhir/R4?%s=%s&_getpagesoffset=%d&_count=%d&_bundletype=%s"}]`, handle, id, to, per, typ)
		}
		b.WriteString(`,"entry":[` + strings.Join(entries[from:to], ",") + `]}`)
		fhirJSONHandler(http.StatusOK, b.String())(w, nil)
	}
	consents := func() []string {
		u.fhir.mu.Lock()
		defer u.fhir.mu.Unlock()
		var out []string
		for _, c := range u.fhir.consents {
			out = append(out, `{"resource":`+c+`,"search":{"mode":"match"}}`)
		}
		return out
	}
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Get("_id") == "":
			page(w, "searchset", consents(), 0, "s1")
		case r.URL.Path == "/fhir/R4/Consent/_history":
			var entries []string
			for i := range 3 {
				entries = append(entries, fmt.Sprintf(`{"request":{"method":"PUT","url":"Consent/h%d"},"response":{"status":"200"}}`, i))
			}
			page(w, "history", entries, 0, "h1")
		case r.URL.Path == "/fhir/R4" && q.Has("_getpages"):
			from, _ := strconv.Atoi(q.Get("_getpagesoffset"))
			if q.Get("_bundletype") == "history" {
				page(w, "history", []string{`{"request":{"method":"PUT","url":"Consent/h0"}}`, `{"request":{"method":"PUT","url":"Consent/h1"}}`,
					`{"request":{"method":"PUT","url":"Consent/h2"}}`}, from, "h1")
				return
			}
			page(w, "searchset", consents(), from, "s1")
		case r.URL.Path == "/fhir/R4/Consent":
			fhirJSONHandler(http.StatusBadRequest, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`)(w, r)
		default:
			inner.ServeHTTP(w, r)
		}
	})
}

// TestConsentReadsFollowHAPIPagingQA31B: HAPI FHIR's next links are paging
// handles at its base ([base]?_getpages=...), which the consent reads
// refused as "not a Consent search": on demand a patient with more
// consents than one page was refused every response (withheld), and every
// full sync round of more than one page failed, so the mirror never served
// (or lapsed after three rounds). They are followed now, by their query,
// at the configured upstream's base, and an opt-out on the second page
// applies; the type history pages alike. A link at the base that is no
// paging handle is still refused (QA round 31, area B).
func TestConsentReadsFollowHAPIPagingQA31B(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	other := upstreamConsent("u2", "1", "2026-01-01T00:00:00Z", "Organization/org-b")
	optOut := strings.Replace(upstreamConsent("u9", "1", "2026-01-01T00:00:00Z", "Organization/org-a"), `"type":"permit"`, `"type":"deny"`, 1)
	for _, tt := range []struct {
		name, handle string
		consents     []string
		want         int
	}{
		{"the permit on the second page", "_getpages", []string{other, other, permit}, http.StatusOK},
		{"the opt-out on the second page", "_getpages", []string{permit, other, optOut}, http.StatusNotFound},
		{"a base link that is no paging handle", "_other", []string{other, other, permit}, 0},
	} {
		for _, mode := range []string{UpstreamOnDemand, UpstreamSync} {
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, SyncInterval: time.Hour, TTL: time.Hour})
			hapiPaging(u, tt.handle)
			u.fhir.set(200, tt.consents...)
			if mode == UpstreamSync {
				sc := u.server.consents.(*sourcedConsents)
				var since time.Time
				round := 0
				err := sc.syncRound(context.Background(), &since, &round) // full
				if tt.want == 0 {
					if err == nil {
						t.Errorf("%s, sync: a round followed a base link that is no paging handle", tt.name)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s, sync: the full round failed: %v", tt.name, err)
					continue
				}
				if err := sc.syncRound(context.Background(), &since, &round); err != nil || sc.noHistory.Load() {
					t.Errorf("%s, sync: the incremental round: %v, history unread %v", tt.name, err, sc.noHistory.Load())
				}
			}
			code := u.read(tokConsented)
			if tt.want == 0 {
				if code < 500 {
					t.Errorf("%s, %s: %d, want the response withheld", tt.name, mode, code)
				}
				continue
			}
			if code != tt.want {
				t.Errorf("%s, %s: %d, want %d", tt.name, mode, code, tt.want)
			}
		}
	}
}
