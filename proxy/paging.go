package proxy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/proxy/authn"
)

// Paging tokens. Every Bundle.link URL the upstream writes (self, first,
// previous, next, last) becomes <publicBase>/_page/<token>; a link that does
// not point below the upstream FHIR base is dropped. The token is the
// upstream path and query below the FHIR base, sealed with AES-256-GCM (so
// the caller can neither read it, since it can name a patient, nor alter it),
// bound to the caller and expiring:
//
//	token = base64url( version(1) | nonce(12) | AES-GCM( binding(32) | expiry(8) | flags(1) |
//	        [skip(4) size(4)] | [origin length(4) | origin] | path?query ) )
//
// (the window when flags has pageWindowed, refill.go; the origin when it
// has pageOrigin, origin.go)
//
// flags carry what an earlier page's decisions must tell the next page's:
// pageEnrolmentCut, a Patient's Part 2 enrolment was cut on this page or
// an earlier one, so the program's directory resources stay withheld on
// the pages that follow (enrolment.go withholdProgramDirectory). Tokens of
// version 1 had no flags and are refused (400: repeat the search).
//
// The AES key is derived with HKDF-SHA256 from Options.Requests.PagingKey.
// binding is SHA-256 over the caller's issuer, subject, client, patient
// context, organisation, fhirUser and sorted scopes: a token minted for
// one caller is refused for any other (404, as for a page that does not
// exist), and a token of the same subject with other scopes, or acting
// for another organisation, is another caller. A token that does not
// open (forged, tampered, truncated, another key) answers 400; an expired
// one 410. A page that opens is re-validated as a FHIR REST path and goes
// through the full pipeline, as any request does.
//
// The caller's own paging parameters of upstream servers (_getpages,
// _page_token, _cursor ...) are refused (searchguard.go): upstream paging is
// reachable only through a token.

const (
	pageTokenVersion = 2
	pageRoute        = "_page"
	bindingSize      = sha256.Size
	// maxPageToken bounds a token before it is decoded. A token is a
	// third longer than the upstream's link, which can echo a query of
	// many KB (a search by some hundred ids): the bound is the request
	// line's own (ds4p serve takes 64 KiB of request line and headers),
	// so that every page link the listener takes opens.
	maxPageToken = 64 << 10
)

// Page token flags.
const (
	// pageEnrolmentCut: a Patient's enrolment in a Part 2 program was cut
	// on this page or an earlier one of the search.
	pageEnrolmentCut byte = 1 << iota
	// pageEnrolmentShown: the Patient of a Patient/x/$everything was
	// disclosed, its enrolment not cut, on an earlier page: the program's
	// directory resources may follow. Without either flag a page of
	// $everything that holds no Patient withholds them, since nothing on
	// it tells whether the enrolment would be cut.
	pageEnrolmentShown
	// pageWindowed: the token carries a page window (refill.go): skip
	// (uint32) and size (uint32) follow the flags, before path and query.
	pageWindowed
	// pageOrigin: the token carries the search that began the chain
	// (exchange.origin): its length (uint32) and bytes follow the window,
	// before path and query. Only for a link that names a handle of the
	// upstream's.
	pageOrigin
	// pageHistory: the chain began with a history (history_bundles.go
	// historyPage): its pages are judged as a history's, whatever type
	// the server's answer says and wherever its links point.
	pageHistory
)

// maxOrigin bounds the origin a token carries: a longer one is left out,
// and the page is judged as before (every member read, scopes of a
// search of the base), so that the token stays under maxPageToken.
const maxOrigin = 16 << 10

// maxOriginTokenPlain bounds the origin and the link together: a token
// with both opens (maxPageToken, base64 of the sealed bytes), so a long
// link that opened without an origin still opens.
const maxOriginTokenPlain = maxPageToken*3/4 - 128

// pageCiphers caches the token cipher per secret (an AES-GCM AEAD holds no
// mutable state and is safe for concurrent use); deriving it costs more
// than sealing a token.
var pageCiphers sync.Map // string(secret) -> cipher.AEAD

// pageCipher is the token cipher of the configured secret.
func (s *Server) pageCipher() (cipher.AEAD, error) {
	secret := s.opts.Requests.PagingKey
	if a, ok := pageCiphers.Load(string(secret)); ok {
		return a.(cipher.AEAD), nil
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "ds4p paging token v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	pageCiphers.Store(string(secret), aead)
	return aead, nil
}

// callerBinding identifies a caller for paging: who (issuer, subject,
// client, fhirUser), for whom (the organisation, the recipient consents
// name: one client may act for several, as a gateway does) and with what
// authority (patient context, scopes, purposes of use, a break-glass
// claim). A page carries what its search's first page established (a
// Part 2 enrolment shown, its window): opened under other purposes or
// without the emergency it was minted under, a later $everything page
// showed a program's Organization that a fresh search under those
// purposes withholds (QA round 29).
func callerBinding(c authn.Caller) []byte {
	h := sha256.New()
	scopes := slices.Clone(c.Scopes)
	slices.Sort(scopes)
	purposes := slices.Clone(c.Purposes)
	slices.Sort(purposes)
	glass := ""
	if c.BreakGlass != "" {
		// The claim with its token's time box: the policy grants the
		// emergency by it, so a token carrying a claim it does not grant
		// (long-lived, or another token of the same clinician) is another
		// caller. Bound by presence alone, a page minted under a granted
		// emergency (p1's Part 2 enrolment shown on $everything's first
		// page) opened for such a token and released the program's
		// Organization that its own search withholds (QA round 39). A
		// token refreshed mid-emergency repeats the search.
		glass = "break-glass\x00" + strconv.FormatInt(unixOrZero(c.IssuedAt), 10) + "\x00" + strconv.FormatInt(unixOrZero(c.Expiry), 10)
	}
	parts := append([]string{c.Issuer, c.Subject, c.Client, c.Patient, c.Org, c.FHIRUser, glass}, scopes...)
	parts = append(append(parts, "\x00purposes"), purposes...)
	for _, p := range parts {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

// pageExpiry is when a page token minted at ttl's start expires: at ttl,
// or when the caller's token carrying a break-the-glass claim does, if
// sooner. The authenticator accepts a token for its clock skew past exp,
// when the policy grants its emergency no more (now < exp): a page minted
// under the emergency would open then, for the same token, without it.
func pageExpiry(caller authn.Caller, ttl time.Time) time.Time {
	if caller.BreakGlass != "" && !caller.Expiry.IsZero() && caller.Expiry.Before(ttl) {
		return caller.Expiry
	}
	return ttl
}

// tokenPadding returns how many NUL bytes follow rel in a token so that
// its length does not depend on the numbers rel holds: each run of
// digits counts as 20 (the most a uint64 takes). A page link names the
// upstream page where the window stopped (_offset=9, _getpagesoffset=10):
// withheld matches before it move that number, and a token one character
// longer than the same search's without them told, by the link's and the
// body's length, that something was withheld (QA round 35, area A).
// openWindow trims the NULs; a URL holds none.
func tokenPadding(rel string) int {
	pad, run := 0, 0
	for i := 0; i <= len(rel); i++ {
		if i < len(rel) && rel[i] >= '0' && rel[i] <= '9' {
			run++
			continue
		}
		if run > 0 && run < 20 {
			pad += 20 - run
		}
		run = 0
	}
	return pad
}

// errPageLinkTooLong: a link whose padded token would not open
// (maxOriginTokenPlain); the link is left out of the page.
var errPageLinkTooLong = errors.New("the page link is too long for a page token")

// mintPage seals rel (path and query below the upstream base, starting with
// "/" or "?") into a page token for caller.
func (s *Server) mintPage(caller authn.Caller, rel string, flags byte, now time.Time) (string, error) {
	return s.mintWindow(caller, pageWindow{rel: rel}, flags, now)
}

// mintWindow seals a page window (refill.go) into a page token for
// caller: its upstream page, and, when it has a size, the matches of that
// page before the window and the proxy's page size.
func (s *Server) mintWindow(caller authn.Caller, w pageWindow, flags byte, now time.Time) (string, error) {
	aead, err := s.pageCipher()
	if err != nil {
		return "", err
	}
	flags &^= pageWindowed | pageOrigin
	if w.size > 0 {
		flags |= pageWindowed
	}
	// The link's length as sealed, padded (tokenPadding): the same
	// whatever numbers it holds, so whether it goes with its origin, or at
	// all, does not depend on them either. Padding left out of a link too
	// long for it kept those numbers' length in the token: a query of some
	// thousand runs of digits, which the upstream echoes in its page
	// links, made every link of the search unpadded (QA round 35, area F).
	padded := len(w.rel) + tokenPadding(w.rel)
	if padded > maxOriginTokenPlain {
		return "", errPageLinkTooLong
	}
	if w.origin != "" && len(w.origin) <= maxOrigin && len(w.origin)+padded <= maxOriginTokenPlain {
		flags |= pageOrigin
	}
	plain := make([]byte, 0, bindingSize+21+len(w.origin)+len(w.rel))
	plain = append(plain, callerBinding(caller)...)
	plain = binary.BigEndian.AppendUint64(plain, uint64(pageExpiry(caller, now.Add(s.opts.Requests.PagingTTL)).Unix()))
	plain = append(plain, flags)
	if w.size > 0 {
		plain = binary.BigEndian.AppendUint32(plain, uint32(w.skip))
		plain = binary.BigEndian.AppendUint32(plain, uint32(w.size))
	}
	if flags&pageOrigin != 0 {
		plain = binary.BigEndian.AppendUint32(plain, uint32(len(w.origin)))
		plain = append(plain, w.origin...)
	}
	plain = append(plain, w.rel...)
	plain = append(plain, make([]byte, padded-len(w.rel))...)
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = pageTokenVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return "", err
	}
	out = aead.Seal(out, out[1:1+aead.NonceSize()], plain, out[:1])
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// openPage checks a page token for caller and returns the upstream path and
// query it stands for, and its flags.
func (s *Server) openPage(caller authn.Caller, token string, now time.Time) (path, rawQuery string, flags byte, f *Failure) {
	path, rawQuery, flags, _, f = s.openWindow(caller, token, now)
	return path, rawQuery, flags, f
}

// openWindow is openPage with the page window the token carries (its rel
// set, its size 0 for a token minted without one).
func (s *Server) openWindow(caller authn.Caller, token string, now time.Time) (path, rawQuery string, flags byte, w pageWindow, f *Failure) {
	invalid := fail(http.StatusBadRequest, "invalid", "the page link is not valid; repeat the search", nil)
	if len(token) > maxPageToken {
		return "", "", 0, w, invalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", "", 0, w, invalid
	}
	aead, err := s.pageCipher()
	if err != nil {
		return "", "", 0, w, fail(http.StatusInternalServerError, "exception", "page links cannot be checked", err)
	}
	ns := aead.NonceSize()
	if len(raw) < 1+ns+aead.Overhead() || raw[0] != pageTokenVersion {
		return "", "", 0, w, invalid
	}
	plain, err := aead.Open(nil, raw[1:1+ns], raw[1+ns:], raw[:1])
	if err != nil || len(plain) < bindingSize+9 {
		return "", "", 0, w, invalid
	}
	if subtle.ConstantTimeCompare(plain[:bindingSize], callerBinding(caller)) != 1 {
		return "", "", 0, w, fail(http.StatusNotFound, "not-found", "the page is not known", nil)
	}
	if exp := int64(binary.BigEndian.Uint64(plain[bindingSize:])); now.Unix() > exp {
		return "", "", 0, w, fail(http.StatusGone, "expired", "the page link has expired; repeat the search", nil)
	}
	flags = plain[bindingSize+8]
	rest := plain[bindingSize+9:]
	if flags&pageWindowed != 0 {
		if len(rest) < 8 {
			return "", "", 0, w, invalid
		}
		w.skip = int(binary.BigEndian.Uint32(rest))
		w.size = int(binary.BigEndian.Uint32(rest[4:]))
		rest = rest[8:]
		if w.size <= 0 || w.size > maxPageSize || w.skip < 0 || w.skip > maxPageSize {
			return "", "", 0, w, invalid
		}
	}
	if flags&pageOrigin != 0 {
		if len(rest) < 4 {
			return "", "", 0, w, invalid
		}
		n := binary.BigEndian.Uint32(rest)
		if n == 0 || n > maxOrigin || int(n) > len(rest)-4 {
			return "", "", 0, w, invalid
		}
		w.origin = string(rest[4 : 4+n])
		rest = rest[4+n:]
	}
	w.rel = strings.TrimRight(string(rest), "\x00") // tokenPadding's
	path, rawQuery, _ = strings.Cut(w.rel, "?")
	return strings.TrimPrefix(path, "/"), rawQuery, flags, w, nil
}

// pageLinks renders a new Bundle.link array for the link array at
// [start, end) of body: each url below the upstream base becomes a page
// token URL for the exchange's caller, each link with any other url (or
// none) is dropped, and each link keeps only relation and url.
func (r *run) pageLinks(start, end int) ([]byte, error) {
	now := time.Now()
	flags := r.chainFlags()
	out := []byte{'['}
	n := 0
	warned := false // one line per Bundle, however many links an upstream writes
	stored := !r.upstreamLinks(start)
	if stored {
		// Not a page of this search: it carries no word that the
		// enrolment was shown, only the one that withholds (QA round 30:
		// a stored link in Patient/p3/$everything naming
		// Patient/p1/$everything?_type=Organization released p1's
		// program).
		flags &= pageEnrolmentCut
	}
	err := eachLink(r.body, start, func(rel, u string) error {
		if rel == "" {
			return nil
		}
		rest, ok := r.s.pageRel(u)
		if !ok {
			if !warned && !stored && (pagingRelation(rel) || hasRelation(rel, "first")) {
				warned = true
				r.warnLinkDropped(rel, u)
			}
			return nil
		}
		// A fragment is the client's, never sent: the page's query
		// ends before it (guardRawQuery refuses a '#').
		rest, _, _ = strings.Cut(rest, "#")
		if stored && !r.s.asksAsCaller(rest, r.ex.publicBase) {
			return nil
		}
		tok, err := r.s.mintWindow(r.ex.caller, pageWindow{rel: rest, origin: r.originFor(rest)}, flags, now)
		if errors.Is(err, errPageLinkTooLong) {
			return nil // left out, whatever its numbers (mintWindow)
		}
		if err != nil {
			return err
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(out, `{"relation":`...)
		out = fjson.AppendString(out, rel)
		out = append(out, `,"url":`...)
		out = fjson.AppendString(out, r.ex.publicBase+"/"+pageRoute+"/"+tok)
		out = append(out, '}')
		return nil
	})
	if err != nil {
		return nil, fail(http.StatusInternalServerError, "exception", "the Bundle's links could not be rewritten; the response was withheld", err)
	}
	return append(out, ']'), nil
}

// upstreamLinks reports whether the link array at start is the one the
// upstream wrote for this exchange: the top-level Bundle's links of the
// answer to a search, history or operation. Any other Bundle's links (a
// Bundle resource read, written or found by a search, a Bundle inside
// another) are content someone stored: a caller who may write a Bundle
// can put any URL below the upstream's base there.
func (r *run) upstreamLinks(start int) bool {
	switch r.ex.req.Interaction {
	case Search, History, Operation:
	default:
		return false
	}
	if r.rootWalked {
		// The body's root Bundle, walked whole by collectBundle: its one
		// link member, as fjson.Lookup would find it (none when two).
		return r.rootLinks == 1 && fjson.SkipSpace(r.body, r.rootLinkAt) == fjson.SkipSpace(r.body, start)
	}
	root := fjson.SkipSpace(r.body, 0)
	if root >= len(r.body) || r.body[root] != '{' {
		return false
	}
	vs, _, ok, err := fjson.Lookup(r.body, root, "link")
	return err == nil && ok && fjson.SkipSpace(r.body, vs) == fjson.SkipSpace(r.body, start)
}

// asksAsCaller reports whether rel (a path and query below the upstream's
// base) passes the request rules as the caller's own request would
// (fromPage false): a link of a stored Bundle (upstreamLinks) becomes a
// page token only then. A page token's query is taken as the upstream's
// own (its paging handles, _offset, a plain id in a parameter the proxy
// does not know go unchecked), so a stored link naming
// DiagnosticReport?study=<withheld id>&_offset=3 reached the server past
// the rules that refuse both from a caller (QA round 30). Scopes are
// checked when the token is followed.
func (s *Server) asksAsCaller(rel, publicBase string) bool {
	path, rawQuery, _ := strings.Cut(rel, "?")
	req, err := parseFHIRPath(http.MethodGet, strings.TrimPrefix(path, "/"))
	if err != nil {
		return false
	}
	if _, f := s.guardRawQuery(req, rawQuery, false); f != nil {
		return false
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return false
	}
	_, f := s.searchTargets(req.Type, req.Operation, q, publicBase, false)
	return f == nil
}

// eachLink calls fn with the relation and url of each link of the
// Bundle.link array at start of body ("" for one it does not have).
func eachLink(body []byte, start int, fn func(rel, u string) error) error {
	return fjson.ArrayEach(body, start, func(vs, ve int) error {
		rel, u := "", ""
		_, err := fjson.ObjectScan(body, vs, func(key []byte, ks int) (int, error) {
			ke, err := fjson.SkipValue(body, ks)
			if err != nil {
				return 0, err
			}
			switch keyName(key) {
			case "relation":
				rel, _ = fjson.StringValue(body, ks, ke)
			case "url":
				u, _ = fjson.StringValue(body, ks, ke)
			}
			return ke, nil
		})
		if err != nil {
			return err
		}
		return fn(rel, u)
	})
}

// warnLinkDropped logs a page link of the upstream's that is dropped: the
// caller's Bundle then ends there as if complete, so the operator must hear
// of it (upstream_aliases). The link's server only, never its path or
// query.
func (r *run) warnLinkDropped(rel, u string) {
	r.s.log.Warn("a page link of the FHIR server is not below its base or an upstream alias; the Bundle is passed on without it",
		"request_id", r.ex.requestID, "relation", pagingRelationName(rel), "link_server", linkServer(u))
}

// pageRel returns the path and query below the upstream's base, or one of
// its aliases, that a Bundle.link URL names: written as the base is
// (cutUpstream), or in a spelling of the same server RFC 3986 makes
// equivalent (scheme and host in any case, the default port written or
// not: sameServer), the base's path compared exactly. The URL only picks
// the page: the token's path and query always go to the upstream.
func (s *Server) pageRel(u string) (string, bool) {
	if rest, ok := s.cutUpstream(u); ok {
		return rest, true
	}
	p, err := url.Parse(u)
	if err != nil || p.Opaque != "" || p.User != nil || p.Host == "" {
		return "", false
	}
	bases := append([]*url.URL{s.opts.Upstream}, s.opts.UpstreamAliases...)
	for _, b := range bases {
		if b == nil || !sameServer(p, b) {
			continue
		}
		path, ok := strings.CutPrefix(p.EscapedPath(), strings.TrimRight(b.EscapedPath(), "/"))
		if !ok || path != "" && path[0] != '/' {
			continue
		}
		if p.RawQuery != "" || p.ForceQuery {
			path += "?" + p.RawQuery
		}
		return path, true
	}
	return "", false
}

// linkServer is the scheme and host of a link URL for a log line: no path,
// no query, no user information, at most 100 bytes.
func linkServer(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(not an absolute URL)"
	}
	out := p.Scheme + "://" + p.Host
	if len(out) > 100 {
		out = out[:100]
	}
	return out
}

// pagingRelationName is the paging relation type rel names, for the log:
// the upstream writes rel, and it may hold anything beside the relation
// ("next Patient/p1 <name>"), which must not reach the log (QA round 21).
func pagingRelationName(rel string) string {
	for _, want := range []string{"next", "previous", "prev", "last", "first"} {
		if hasRelation(rel, want) {
			return want
		}
	}
	return "other"
}
