package proxy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
)

// QA round 35 (area F): a page token's length must not depend on the
// numbers in the upstream link it seals (86928fd pads each run of digits
// to 20 bytes). The padding was left out when the padded token would pass
// maxOriginTokenPlain, and a caller decides how many runs of digits a link
// echoes: Condition?patient=p1&onset-age=1,1,1,... with some thousand
// alternatives (a few KB, each run counting 20) made every link of the
// search unpadded, and the link after a page where a withheld match moved
// the upstream's _offset from 9 to 10 came out one character longer: the
// tell the padding was for.
func TestPageTokenPaddedWhateverTheLinkQA35F(t *testing.T) {
	long := strings.TrimSuffix(strings.Repeat("1,", 1300), ",")
	var lens [2][]int
	for i := range lens {
		w := qa35aWorldV(i == 1, false)
		h := newHarness(t, w.ServeHTTP)
		w.base = h.base()
		path := "/fhir/Condition?patient=p1&_count=1&onset-age=" + long
		for depth := 0; depth < 12 && path != ""; depth++ {
			a := qa35aAsk(h, "GET", path, qa35aPayer)
			if a.status != 200 {
				t.Fatalf("world %d page %d: %d %s", i, depth+1, a.status, a.body)
			}
			lens[i] = append(lens[i], a.tokLens...)
			path = qa35aNext(a.raw, h)
		}
	}
	if fmt.Sprint(lens[0]) != fmt.Sprint(lens[1]) {
		t.Errorf("page token lengths %v without the SUD condition, %v with it", lens[0], lens[1])
	}
	if len(lens[0]) == 0 {
		t.Errorf("no page link to compare")
	}
}

// TestPageTokenLengthNearItsBoundQA35F: near the bound of a token, two
// links that differ only in a number (_offset=9, _offset=10) give tokens
// of one length, or are both left out; with an origin, both carry it or
// neither does.
func TestPageTokenLengthNearItsBoundQA35F(t *testing.T) {
	t.Parallel()
	srv := testServer(t, RequestRules{PagingTTL: time.Minute, PagingKey: []byte(strings.Repeat("k", 32))})
	caller := authn.Caller{Issuer: "iss", Subject: "alice", Client: "app", Scopes: []string{"user/*.read"}}
	for _, origin := range []string{"", "/Condition?patient=p1"} {
		for runs := 2200; runs <= 2400; runs += 7 {
			var toks [2]string
			var errs [2]error
			for i, off := range []string{"9", "10"} {
				rel := "/Condition?_cursor=c&x=" + strings.TrimSuffix(strings.Repeat("1,", runs), ",") + "&_offset=" + off
				toks[i], errs[i] = srv.mintWindow(caller, pageWindow{rel: rel, origin: origin}, 0, time.Now())
				if errs[i] != nil && !errors.Is(errs[i], errPageLinkTooLong) {
					t.Fatal(errs[i])
				}
				if errs[i] == nil {
					_, _, _, w, f := srv.openWindow(caller, toks[i], time.Now())
					if f != nil || w.rel != rel {
						t.Fatalf("%d runs: a token of %d bytes does not open as it was minted: %v", runs, len(toks[i]), f)
					}
					toks[i] += "|" + fmt.Sprint(w.origin != "")
				}
			}
			if len(toks[0]) != len(toks[1]) || (errs[0] == nil) != (errs[1] == nil) {
				t.Errorf("origin %q, %d runs: _offset=9 gives a token of %d bytes (%v), _offset=10 one of %d (%v)",
					origin, runs, len(toks[0]), errs[0], len(toks[1]), errs[1])
			}
		}
	}
}
