package proxy

import (
	"bytes"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/synth"
)

// oldMayHoldUpstreamURL is mayHoldUpstreamURL as it was at ae3f072: a
// search for `\u`, then one for every "//" and one for every `\/`. The
// one-search version must say "maybe" wherever it did (a false "no" leaves
// the upstream's address and skips the Binary rules).
func (r *run) oldMayHoldUpstreamURL(seg []byte) bool {
	if bytes.Contains(seg, []byte(`\u`)) {
		return true
	}
	for i := 0; ; {
		j := bytes.Index(seg[i:], []byte("//"))
		if j < 0 {
			break
		}
		i += j + 2
		if oldMayBeUpstream(r.s.upBases, oldAuthorityAt(seg, i)) {
			return true
		}
	}
	for i := 0; ; {
		j := bytes.Index(seg[i:], []byte(`\/`))
		if j < 0 {
			return false
		}
		p := i + j
		i = p + 2
		var at int
		switch {
		case p > 0 && seg[p-1] == '/':
			at = p + 2
		case bytes.HasPrefix(seg[p+2:], []byte("/")):
			at = p + 3
		case bytes.HasPrefix(seg[p+2:], []byte(`\/`)):
			at = p + 4
		default:
			continue
		}
		if oldMayBeUpstream(r.s.upBases, oldAuthorityAt(seg, at)) {
			return true
		}
	}
}

// oldAuthorityAt and oldMayBeUpstream are authorityAt and mayBeUpstream
// as they were at ae3f072, so that the reference does not change with them.
func oldAuthorityAt(seg []byte, i int) []byte {
	end := i
	for end < len(seg) {
		switch seg[end] {
		case '/', '?', '#', '"', '\\':
			return seg[i:end]
		}
		end++
	}
	return seg[i:end]
}

func oldMayBeUpstream(bases []string, auth []byte) bool {
	for _, b := range bases {
		if _, ok := baseHost(b); !ok {
			return true
		}
	}
	for _, c := range auth {
		if c == '%' || c >= 0x80 {
			return true
		}
	}
	for _, b := range bases {
		if h, _ := baseHost(b); containsFold(auth, h) {
			return true
		}
	}
	return false
}

// preFilterServers are the configurations the pre-filter is compared on:
// one host; two distinct hosts in three bases; four, one an IPv6 literal
// and one a code system's; a host of one byte; a base whose host cannot be
// told (every authority is then "maybe").
func preFilterServers() map[string]*run {
	out := map[string]*run{}
	for name, bases := range map[string][]string{
		"one host":   {"http://127.0.0.1:8080/fhir"},
		"two hosts":  {"http://127.0.0.1:8080/fhir", "https://EHR.Example.:443/fhir", "http://ehr.example:443/fhir"},
		"four":       {"http://127.0.0.1:8080/fhir", "https://EHR.Example.:443/fhir", "https://[::1]:8443/fhir", "https://loinc.org/x"},
		"short host": {"http://127.0.0.1:8080/fhir", "https://e/fhir"},
		"unknown":    {"http://127.0.0.1:8080/fhir", "https://ehr.exampl\u212a/fhir"},
	} {
		var us []*url.URL
		for _, b := range bases {
			u, err := url.Parse(b)
			if err != nil {
				panic(err)
			}
			us = append(us, u)
		}
		o := Options{Upstream: us[0], UpstreamAliases: us[1:]}
		s := &Server{opts: o}
		s.upBases = upstreamBases(o)
		out[name] = &run{s: s}
	}
	return out
}

// TestMayHoldUpstreamURLAsBefore (QA round 23, area A): the pre-filter now
// finds "//", `\/` and `\u` in one search (fjson.IndexURLMark). On random
// resources built from the pieces that matter (the hosts in several cases,
// other hosts, every spelling of "//", escapes, percent-escapes, a Kelvin
// sign, narratives' \"), placed at every distance from the 32-byte steps,
// for each configuration of preFilterServers, it answers exactly as the
// old searches did: never "no" where they said "maybe" (a false "no"
// leaves the upstream's address and skips the Binary rules).
func TestMayHoldUpstreamURLAsBefore(t *testing.T) {
	pieces := []string{
		"//", `\/`, `\u`, `\\`, `\"`, "/", `\`, "u", ":", "https:", "http:", "?", "#", `"`, "%", "%65",
		"127.0.0.1", "127.0.0.2", "ehr.example", "EHR.EXAMPLE", "eHr.ExAmPlE", "ehr.exampl\u212a", "loinc.org",
		"x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ` `, "@", "ehr.", "example", "</p>", `<div xmlns=\"http:`,
		"::1", "[::1]", "e", "E",
	}
	for name, r := range preFilterServers() {
		rng := rand.New(rand.NewPCG(23, 0xa))
		maybes := 0
		for n := range 60000 {
			var b strings.Builder
			b.WriteString(strings.Repeat("y", n%40)) // every offset from the 32-byte steps
			for range 1 + rng.IntN(24) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			seg := []byte(b.String())
			want := r.oldMayHoldUpstreamURL(seg)
			if got := r.mayHoldUpstreamURL(seg); got != want {
				t.Fatalf("%s: mayHoldUpstreamURL(%q) = %v, the old searches %v", name, seg, got, want)
			}
			if want {
				maybes++
			}
		}
		if maybes < 1000 || maybes > 59000 && name != "unknown" {
			t.Errorf("%s: %d of 60000 maybe: the generator tests one answer only", name, maybes)
		}
	}
}

// FuzzMayHoldUpstreamURL: the same comparison on any bytes.
func FuzzMayHoldUpstreamURL(f *testing.F) {
	servers := preFilterServers()
	f.Add([]byte(`{"url":"https:\/\/ehr.example.\/fhir\/Binary\/1"}`))
	f.Add([]byte(`{"system":"http://loinc.org","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">seen at ehr.example</div>"}`))
	f.Fuzz(func(t *testing.T, seg []byte) {
		for name, r := range servers {
			if got, want := r.mayHoldUpstreamURL(seg), r.oldMayHoldUpstreamURL(seg); got != want {
				t.Fatalf("%s: mayHoldUpstreamURL(%q) = %v, the old searches %v", name, seg, got, want)
			}
		}
	})
}

// BenchmarkMayHoldUpstreamURL runs the pre-filter, old and new, over the
// resources of the 1,000-entry benchmark search (synth.BenchResources).
func BenchmarkMayHoldUpstreamURL(b *testing.B) {
	up, _ := url.Parse("http://127.0.0.1:8080/fhir")
	s := &Server{opts: Options{Upstream: up}}
	s.upBases = upstreamBases(s.opts)
	r := &run{s: s}
	var segs [][]byte
	n := 0
	for _, res := range synth.BenchResources(1000, 1) {
		segs = append(segs, res.JSON)
		n += len(res.JSON)
	}
	for _, v := range []struct {
		name string
		fn   func([]byte) bool
	}{{"new", r.mayHoldUpstreamURL}, {"old", r.oldMayHoldUpstreamURL}} {
		b.Run(v.name, func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				for _, seg := range segs {
					if v.fn(seg) {
						b.Fatal("maybe")
					}
				}
			}
		})
	}
}
