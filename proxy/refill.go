package proxy

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// Page refill. The upstream pages a search before the proxy decides, so a
// page whose matches were withheld came out short, and a caller choosing
// the query could tell what was withheld: Condition?_id=a,b&_count=1
// answered an empty first page when a was withheld and one page when a did
// not exist; _sort placed the gap. The proxy now pages in windows of its
// own over the upstream's pages:
//
//   - A page's size is the number of matches on the search's first
//     upstream page (the server's page size, whatever _count asked for),
//     fixed for the search in its page tokens.
//   - A page holds the disclosed matches of its window: from a position on
//     one upstream page (skip) until it holds that many, taking them from
//     the upstream's next pages while it is short (at most
//     Requests.RefillPages upstream pages for one page of the caller's).
//   - Its next link names where the window stopped: the same upstream page
//     past the last match it took, when a disclosed match follows there,
//     else the upstream's next page. The proxy never looks further ahead:
//     an empty last page follows a full one both when the server paged
//     exactly at the end (as servers do) and when all that followed was
//     withheld.
//   - Its links are self, first and next only: previous and last name the
//     upstream's own pages, which no longer line up with the caller's, and
//     dropping them only when a page was refilled would tell that it was.
//
// A page with fewer matches than its size and a next link is then left
// only when the upstream pages ran out of the budget (logged, counted in
// ds4p.paging.refill_exhausted). An include entry goes with its upstream
// page when a match of that page is on the caller's, once per page; the
// outcome entries of the first upstream page read that has any go with
// the page whatever its matches (a server without the withheld matches
// writes them there all the same). Every upstream page is judged whole, as a page of its own, and only
// the entries of the window are disclosed and recorded: a match before the
// window (shown on an earlier page) or after it (shown on a later one) is
// neither. One ledger entry is written per patient and upstream page.

// maxPageSize bounds a window's numbers when a token opens.
const maxPageSize = 1 << 20

// DefaultRefillPages is how many upstream pages one page of the caller's
// may read.
const DefaultRefillPages = 8

// pageWindow is where a page of the caller's starts in the upstream's
// pages.
type pageWindow struct {
	// rel is the upstream page: its path and query below the upstream
	// base ("/Observation?_count=10&_offset=20"), as pageRel returns it.
	rel string
	// skip is the number of matches of that page before the window.
	skip int
	// size is the caller's page size; 0 when the request is no page of
	// the proxy's (a search's first request).
	size int
	// origin is the search that began the chain when rel names a handle
	// of the upstream's (exchange.origin); "" otherwise.
	origin string
}

// pagedRun is one upstream page judged for a page of the caller's.
type pagedRun struct {
	r    *run
	root *bundleNode
	rel  string
	// links are its Bundle's self, first and next links, below the
	// upstream base.
	links pagingLinks
	// from and cut bound the window over its matches (match ordinals),
	// of matches in all.
	from, cut, matches int
}

// pagingLinks are the rels (pageRel) of a Bundle's self, first and next
// links; "" when absent or not below the upstream base.
type pagingLinks struct {
	self, first, next string
}

var refillExhausted, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.paging.refill_exhausted",
	metric.WithDescription("pages sent short of their size with a next link because refilling them read the most upstream pages allowed"))

var refillPages, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.paging.refill_pages",
	metric.WithDescription("upstream pages read to refill a page that lost matches"))

// windowed reports whether root, the response's own Bundle, is a page the
// proxy shows in windows: a searchset or history Bundle of a search, a
// type or system history, or an operation, that pages (a next link below
// the upstream base) or was reached through a windowed page token. The
// history of one resource is left as it was (withholdSiblingVersions).
func (r *run) windowed(root *bundleNode) bool {
	switch r.ex.req.Interaction {
	case Search, Operation:
	case History:
		if r.ex.req.ID != "" {
			return false
		}
	default:
		return false
	}
	if root.typ != "searchset" && root.typ != "history" {
		return false
	}
	if r.ex.window.size > 0 {
		return true
	}
	return root.hasPaging
}

// pagingLinks reads the self, first and next links of b.
func (r *run) pagingLinks(b *bundleNode) (pagingLinks, error) {
	var out pagingLinks
	warned := false // one line per Bundle, however many links an upstream writes
	for _, u := range b.linkURLs {
		start, _ := trim(r.body, u.start, u.end)
		err := eachLink(r.body, start, func(rel, link string) error {
			rest, ok := r.s.pageRel(link)
			if !ok {
				if !warned && (pagingRelation(rel) || hasRelation(rel, "first")) {
					warned = true
					r.warnLinkDropped(rel, link)
				}
				return nil
			}
			rest, _, _ = strings.Cut(rest, "#")
			switch {
			case hasRelation(rel, "next") && out.next == "":
				out.next = rest
			case hasRelation(rel, "self") && out.self == "":
				out.self = rest
			case hasRelation(rel, "first") && out.first == "":
				out.first = rest
			}
			return nil
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// matchEntries are the entries of b that are matches: in a searchset
// those whose search.mode is match or absent, in a history every entry.
func (r *run) matchEntries(b *bundleNode) []*entryNode {
	out := make([]*entryNode, 0, len(b.entries))
	for _, e := range b.entries {
		if r.isMatch(b, e) {
			out = append(out, e)
		}
	}
	return out
}

// isMatch reports whether e is a match of b (matchEntries).
func (r *run) isMatch(b *bundleNode, e *entryNode) bool {
	if b.typ == "history" {
		return true
	}
	if p := e.parts[partSearch]; p.start >= 0 && !e.parsed {
		// Most servers write it so: no need to read it.
		if s, en := trim(r.body, p.start, p.end); string(r.body[s:en]) == `{"mode":"match"}` {
			return true
		}
	}
	return !r.entryParts(e).notMatch
}

// processPage finishes a windowed page (windowed): it takes the window's
// matches from root's upstream page and, while the page is short and the
// upstream pages on, from the pages that follow, then renders and records
// the window alone.
func (r *run) processPage(ctx context.Context, root *bundleNode) (out []byte, st *stream, notFound bool, err error) {
	ex := r.ex
	links, err := r.pagingLinks(root)
	if err != nil {
		return nil, nil, false, fail(http.StatusBadGateway, "processing", "the FHIR server's page links could not be read", err)
	}
	w := ex.window
	switch {
	case w.rel != "": // a page link's
	case ex.firstGet: // a search's first page, from its first match
		w.rel = "/" + ex.req.Path
		if ex.getQuery != "" {
			w.rel += "?" + ex.getQuery
		}
	default: // a POST _search: the page the server says it is
		w.rel = links.self
	}
	if w.size == 0 {
		w.size = len(r.matchEntries(root))
	}
	if w.size == 0 || w.size > maxPageSize || w.skip > maxPageSize {
		// No window fits this page (a page of no matches): as before
		// refill.
		return r.finish(ctx, root, nil)
	}
	// w.rel is "" for a POST _search whose answer has no self link: its
	// page has no self link then, and no window of the caller's starts
	// inside it (its window takes all its matches before it is full).
	runs := []*pagedRun{{r: r, root: root, rel: w.rel, links: links}}
	need, skip := w.size, w.skip
	var next *pageWindow
	for k := 0; ; k++ {
		pr := runs[k]
		markKept(pr.r, pr.root)
		matches := pr.r.matchEntries(pr.root)
		pr.matches = len(matches)
		pr.from, pr.cut = min(skip, len(matches)), min(skip, len(matches))
		for pr.cut < len(matches) && need > 0 {
			if matches[pr.cut].kept {
				need--
			}
			pr.cut++
		}
		if need == 0 {
			for _, e := range matches[pr.cut:] {
				if e.kept {
					if pr.rel == "" { // cannot be (above): withhold, never guess
						return nil, nil, false, fail(http.StatusBadGateway, "processing", "the FHIR server's page cannot be named for the next page", nil)
					}
					next = &pageWindow{rel: pr.rel, skip: pr.cut, size: w.size}
					break
				}
			}
			if next == nil {
				// Only withheld matches follow on this upstream page:
				// no window of the caller's starts among them, so this
				// one takes them (withheld, they are recorded so, once).
				pr.cut = len(matches)
				if pr.links.next != "" {
					next = &pageWindow{rel: pr.links.next, size: w.size}
				}
			}
			break
		}
		if pr.links.next == "" {
			break // the search's last page
		}
		if k+1 >= r.s.opts.Requests.RefillPages {
			next = &pageWindow{rel: pr.links.next, size: w.size}
			refillExhausted.Add(ctx, 1)
			r.s.log.Warn("a page is sent short of its size: refilling it read the most upstream pages allowed (enforcement.paging_refill_pages)",
				"request_id", ex.requestID, "upstream_pages", k+1, "page_size", w.size)
			break
		}
		if !samePage(ex.req, pr.links.next) {
			// A next link naming another search than this one (no server
			// pages so) is not read to refill the page: it goes to the
			// caller as it is, and following it is checked as any page
			// link is.
			next = &pageWindow{rel: pr.links.next, size: w.size}
			break
		}
		nr, nroot, err := r.s.judgePage(ctx, pr.r, pr.root.typ, pr.links.next)
		if err != nil {
			return nil, nil, false, err
		}
		refillPages.Add(ctx, 1)
		nlinks, err := nr.pagingLinks(nroot)
		if err != nil {
			return nil, nil, false, fail(http.StatusBadGateway, "processing", "the FHIR server's page links could not be read", err)
		}
		runs = append(runs, &pagedRun{r: nr, root: nroot, rel: pr.links.next, links: nlinks})
		skip = 0
	}
	var seen map[string]bool // the page's entries, when it has several upstream pages' (an include once)
	if len(runs) > 1 {
		seen = map[string]bool{}
	}
	for _, pr := range runs {
		if err := pr.keepWindow(seen); err != nil {
			return nil, nil, false, err
		}
	}
	first := (*pageWindow)(nil)
	if links.first != "" {
		first = &pageWindow{rel: links.first, size: w.size}
	}
	last := runs[len(runs)-1].r
	r.page = &pageRender{root: root, hasSelf: links.self != "", self: pageWindow{rel: w.rel, skip: w.skip, size: w.size}, selfFlags: ex.pageFlags,
		first: first, next: next, nextFlags: last.chainFlags()}
	root.hasPaging = true // never a total: the window is no whole search
	for _, pr := range runs[1:] {
		r.merged = append(r.merged, pr)
	}
	if len(runs) == 1 {
		return r.finish(ctx, root, nil)
	}
	byID := map[string]policy.Notice{}
	for _, pr := range runs {
		for _, n := range pr.r.withExtraNotices(pr.r.disclosedNotices()) {
			byID[n.ID] = n
		}
	}
	r.notices = sortedNotices(byID)
	ex.notices = noticeHeaderValues(r.notices)
	if out, err = r.renderBundle(outBuffer(len(r.body)*len(runs)), root); err != nil {
		return nil, nil, false, err
	}
	if err := recordRuns(ctx, runs); err != nil {
		return nil, nil, false, err
	}
	for _, pr := range runs {
		pr.r.noteBreakGlass(ctx) // once recorded, as finish raises it
	}
	return out, nil, false, nil
}

// markKept sets the kept flag of the entries of b that keptEntries keeps.
func markKept(r *run, b *bundleNode) {
	for _, e := range b.entries {
		e.kept = false
	}
	for _, e := range r.keptEntries(b) {
		e.kept = true
	}
}

// keepWindow leaves in the run only its window: the matches in
// [from, cut), its includes when a match of the window is disclosed, an
// include that an earlier upstream page of the same caller's page carried
// (seen) once, and its outcome entries when no earlier one carried any. Every other entry leaves
// the response and its items the ledger: they are no part of this page.
//
// A window that holds part of its upstream page's matches keeps only the
// includes the window's disclosed matches bring (windowIncludes): the
// server wrote the includes of the whole page, and those of a match shown
// on another page of the caller's would tell that the page was refilled
// and where the upstream page began, so how many matches before it were
// withheld.
func (pr *pagedRun) keepWindow(seen map[string]bool) error {
	r, b := pr.r, pr.root
	whole := pr.from == 0 && pr.cut == pr.matches
	if whole && seen == nil {
		// The whole upstream page, alone on the caller's: nothing to
		// leave out (an include no kept match references is withheld
		// already: withholdOrphanIncludes).
		return nil
	}
	shown := false
	ord := 0
	for _, e := range b.entries {
		if r.isMatch(b, e) {
			if ord >= pr.from && ord < pr.cut && e.kept {
				shown = true
			}
			ord++
		}
	}
	var linked map[*entryNode]bool
	if !whole && shown {
		var err error
		if linked, err = pr.windowIncludes(); err != nil {
			return err
		}
	}
	gone := map[*item]bool{}
	entries := b.entries[:0]
	ord = 0
	outcomes := false // the run's own outcome entries stay, those of a later run do not
	for _, e := range b.entries {
		keep := shown
		switch {
		case r.isMatch(b, e):
			keep = ord >= pr.from && ord < pr.cut
			ord++
		case isOutcomeEntry(e):
			// The search's outcome, which each upstream page repeats
			// (or its warnings): once on a page of the caller's, as
			// each page of the server's carries it once, whether or
			// not a match of its upstream page is shown there (a
			// server without the withheld matches writes it on the
			// page all the same; many write it on their first page
			// only).
			keep = seen == nil || !seen[outcomeSeen]
			outcomes = outcomes || keep
		default:
			if keep && linked != nil {
				keep = linked[e]
			}
			if keep && seen != nil && e.item != nil && e.item.res.ID != "" {
				key := e.item.res.Type + "/" + e.item.res.ID
				keep = !seen[key]
			}
		}
		if !keep {
			dropItems(e, gone)
			continue
		}
		if seen != nil && e.item != nil && e.kept && e.item.res.ID != "" {
			seen[e.item.res.Type+"/"+e.item.res.ID] = true
		}
		entries = append(entries, e)
	}
	clear(b.entries[len(entries):])
	b.entries = entries
	if outcomes && seen != nil {
		seen[outcomeSeen] = true
	}
	r.dropGone(gone)
	return nil
}

// dropGone removes the items of gone from the run's items, in place.
func (r *run) dropGone(gone map[*item]bool) {
	if len(gone) == 0 {
		return
	}
	items := r.items[:0]
	for _, it := range r.items {
		if !gone[it] {
			items = append(items, it)
		}
	}
	clear(r.items[len(items):])
	r.items = items
}

// outcomeSeen is the key of seen (keepWindow) that says an upstream page
// of the caller's page carried outcome entries: no resource's key.
const outcomeSeen = "\x00outcome"

// isOutcomeEntry reports whether e holds an OperationOutcome (a search's
// outcome entry), which goes with the page whatever its matches.
func isOutcomeEntry(e *entryNode) bool {
	return e.item != nil && e.item.res.Type == "OperationOutcome" && e.nested == nil
}

// windowIncludes returns the entries of the run's page other than matches
// and outcomes that its window's disclosed matches bring, as
// withholdOrphanIncludes (includes.go) finds them for a whole page: an
// entry a disclosed match of the window references, or that references
// one (a _revinclude), or that such an entry references
// (_include:iterate). Any other non-match entry (one of a match outside
// the window, one with no resource, a search.mode the proxy does not know)
// is no part of the window: fail closed.
func (pr *pagedRun) windowIncludes() (map[*entryNode]bool, error) {
	r, b := pr.r, pr.root
	var fwd, rev map[string]*linkMembers
	if b.searchset && anyCutEntry(b) {
		fwd, rev = r.includeLinks()
	}
	var matches, incs []*item
	var incEntries []*entryNode
	ord := 0
	for _, e := range b.entries {
		if r.isMatch(b, e) {
			in := ord >= pr.from && ord < pr.cut
			ord++
			if in && e.item != nil && e.item.class.decision.Permitted() {
				matches = append(matches, e.item)
			}
			continue
		}
		if e.item == nil || e.nested != nil || !e.item.class.decision.Permitted() || e.item.res.ID == "" {
			continue
		}
		incs = append(incs, e.item)
		incEntries = append(incEntries, e)
	}
	brought, err := r.broughtIncludes(matches, incs, fwd, rev) // includes.go
	if err != nil {
		return nil, rewriteFailure(err)
	}
	linked := map[*entryNode]bool{}
	for i, e := range incEntries {
		if brought[i] {
			linked[e] = true
		}
	}
	return linked, nil
}

// dropItems adds the items of e, and of a Bundle nested in it, to gone.
func dropItems(e *entryNode, gone map[*item]bool) {
	if e.item != nil {
		gone[e.item] = true
	}
	if e.nested != nil {
		for _, ne := range e.nested.entries {
			dropItems(ne, gone)
		}
	}
}

// judgePage fetches the upstream page rel names (a next link of the page
// prev judged) and judges it as a page of the same request: the same
// interaction on the same type, resource and operation, its query guarded
// as a page link's. A page that is none of these ends the refill with an
// error: the caller's page is withheld, never sent short.
func (s *Server) judgePage(ctx context.Context, prev *run, prevType, rel string) (*run, *bundleNode, error) {
	ex := prev.ex
	bad := func(msg string, err error) error {
		return fail(http.StatusBadGateway, "processing", msg, err)
	}
	path, rawQuery, _ := strings.Cut(rel, "?")
	req, err := parseFHIRPath(http.MethodGet, strings.TrimPrefix(path, "/"))
	if err != nil || !samePage(ex.req, rel) {
		return nil, nil, bad("the FHIR server's next page is not a page of the same search", err)
	}
	judged := req
	if req.Path == "" { // a handle at the base: the same search (samePage)
		judged = ex.req
		judged.Path = ""
	}
	rawQuery, f := s.guardRawQuery(req, rawQuery, true)
	if f != nil {
		return nil, nil, bad("the FHIR server's next page could not be checked", f)
	}
	// samePage takes any link at the base as a page of a system search,
	// whatever its _type: the page read must stay within the caller's
	// scopes, as a page token followed must (origin.go).
	if !ex.pageInScope(judged, rel) {
		return nil, nil, bad("the FHIR server's next page is not a page of the same search", errors.New("the next page reaches beyond the caller's scopes"))
	}
	u := s.upBase // a handle at the base: asked for as rewrite (fhir.go) asks for it, no "/" after the base
	if req.Path != "" {
		u += "/" + req.Path
	}
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	up, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, bad("the FHIR server's next page could not be read", err)
	}
	up.Header["Accept"] = []string{"application/fhir+json"}
	up.Header["X-Request-Id"] = []string{ex.requestID}
	// The search's own deadline (ctx: upstream_timeout), not the 5 s
	// the proxy's client gives its small reads: an upstream page is as
	// large, and as slow, as the search's first page, which the reverse
	// proxy reads under that deadline alone.
	client := *s.client
	client.Timeout = 0
	resp, err := client.Do(up)
	if err != nil {
		if f := classify(err); f.Status == http.StatusGatewayTimeout {
			return nil, nil, f
		}
		return nil, nil, bad("the FHIR server's next page could not be read", err)
	}
	body, err := s.readBody(resp)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK || !isJSON(resp.Header.Get("Content-Type")) {
		recycleOut(body)
		return nil, nil, bad("the FHIR server answered its next page with status "+http.StatusText(resp.StatusCode), nil)
	}
	nex := *ex
	// The page's own query says what it searched by (redact.go
	// cutQuery): a POST _search's form is in the server's link.
	nex.req, nex.fromPage, nex.searchForm = judged, true, nil
	nex.query = queryForLedger(req.Path, rawQuery)
	nex.origin = prev.originFor(rel) // a handle's page: judged by the search that began the chain (origin.go)
	nex.pageFlags = prev.chainFlags()
	nex.window = pageWindow{rel: rel}
	nex.notices = nil
	nr, root, _, err := s.judge(ctx, &nex, body)
	if err != nil {
		return nil, nil, err
	}
	if root == nil || root.typ != prevType {
		return nil, nil, bad("the FHIR server's next page is not a page of the same search", errNotSameSearch)
	}
	return nr, root, nil
}

// errNotSameSearch: the upstream answered a page of a search with a
// Bundle of another type (judgePage).
var errNotSameSearch = errors.New("the upstream's answer is not a page of the search")

// enrolmentFlags are the page token flags that carry the run's enrolment
// decisions to the pages after it (paging.go).
func (r *run) enrolmentFlags() byte {
	switch {
	case r.enrolmentCut:
		return pageEnrolmentCut
	case r.enrolmentShown:
		return pageEnrolmentShown
	}
	return 0
}

// chainFlags are the page token flags of the pages after the run's: its
// enrolment decisions, and that the chain began with a history.
func (r *run) chainFlags() byte {
	f := r.enrolmentFlags()
	if r.ex.req.Interaction == History || r.ex.pageFlags&pageHistory != 0 {
		f |= pageHistory
	}
	return f
}

// pageRender is what a windowed page's links say.
type pageRender struct {
	root      *bundleNode
	hasSelf   bool // the upstream's page had a self link
	self      pageWindow
	selfFlags byte
	first     *pageWindow
	next      *pageWindow
	nextFlags byte
}

// windowLinks renders a windowed page's link array: self, first and next,
// each a page token of its window.
func (r *run) windowLinks() ([]byte, error) {
	now := time.Now()
	p := r.page
	out := []byte{'['}
	add := func(rel string, w pageWindow, flags byte) error {
		w.origin = r.originFor(w.rel) // origin.go
		tok, err := r.s.mintWindow(r.ex.caller, w, flags, now)
		if errors.Is(err, errPageLinkTooLong) {
			return nil // left out, whatever its numbers (mintWindow)
		}
		if err != nil {
			return err
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, `{"relation":"`...)
		out = append(out, rel...)
		out = append(out, `","url":`...)
		out = fjson.AppendString(out, r.ex.publicBase+"/"+pageRoute+"/"+tok)
		out = append(out, '}')
		return nil
	}
	if p.hasSelf {
		if err := add("self", p.self, p.selfFlags); err != nil {
			return nil, err
		}
	}
	if p.first != nil {
		// The first page of a history is a history's page too: its
		// enrolment decisions are its own, not this page's.
		if err := add("first", *p.first, r.chainFlags()&pageHistory); err != nil {
			return nil, err
		}
	}
	if p.next != nil {
		if err := add("next", *p.next, p.nextFlags); err != nil {
			return nil, err
		}
	}
	return append(out, ']'), nil
}

// writeRefilled appends the entry array of a page refilled from the
// upstream pages after its own (r.merged): the matches of every upstream
// page in order, then their other entries (includes, outcomes), then the
// notice entry when one is due. Servers write a page so, matches first:
// a page written as its upstream pages came, an include between two
// matches, would show where an upstream page began, so how many matches
// of the one before were withheld.
func (r *run) writeRefilled(dst []byte, b *bundleNode, kept []*entryNode, notice bool) ([]byte, error) {
	dst = append(dst, '[')
	n := 0
	var err error
	write := func(rr *run, e *entryNode) error {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst, err = rr.writeEntry(dst, e)
		return err
	}
	runs := make([]*pagedRun, 0, 1+len(r.merged))
	runs = append(runs, &pagedRun{r: r, root: b})
	runs = append(runs, r.merged...)
	keptOf := make([][]*entryNode, len(runs))
	keptOf[0] = kept
	for i, pr := range runs[1:] {
		keptOf[i+1] = pr.r.keptEntries(pr.root)
	}
	for _, matches := range []bool{true, false} {
		for i, pr := range runs {
			for _, e := range keptOf[i] {
				if pr.r.isMatch(pr.root, e) != matches {
					continue
				}
				if err := write(pr.r, e); err != nil {
					return nil, err
				}
			}
		}
	}
	if notice {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, noticeEntry(r.notices)...)
	}
	return append(dst, ']'), nil
}

// recordRuns records the disclosures of a page refilled from several
// upstream pages: one Append for all their ledger entries, before the
// page leaves (record).
func recordRuns(ctx context.Context, runs []*pagedRun) error {
	r := runs[0].r
	var entries []audit.Entry
	disclosed := false
	for _, pr := range runs {
		entries = append(entries, pr.r.ledgerEntries()...)
		disclosed = disclosed || pr.r.anyDisclosed()
	}
	return r.recordEntries(ctx, entries, disclosed)
}

// mergedKept counts the entries the upstream pages merged into the run's
// page keep.
func (r *run) mergedKept() int {
	n := 0
	for _, pr := range r.merged {
		n += len(pr.r.keptEntries(pr.root))
	}
	return n
}

// samePage reports whether rel, an upstream page link, is a GET of the same
// interaction as req on the same type, resource and operation, or a handle
// the server remembers the search by at its base (HAPI's
// ?_getpages=<id>&_getpagesoffset=20, cutQueryHandles): a page of the same
// search, which the caller's scopes already cover.
func samePage(req fhirRequest, rel string) bool {
	path, rawQuery, _ := strings.Cut(rel, "?")
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return false
		}
		for k := range q {
			if cutQueryHandles[k] {
				return true
			}
		}
		// A search of the system pages at the base too
		// ([base]?_type=Condition&_offset=20).
		return req.Path == "" && req.Interaction == Search
	}
	p, err := parseFHIRPath(http.MethodGet, path)
	return err == nil && p.Interaction == req.Interaction && p.Type == req.Type && p.ID == req.ID && p.Operation == req.Operation
}

// A batch entry's search. A batch (or transaction) entry
// GET Condition?_count=2 is answered by the server with one page of the
// search inside the batch's answer: judged there as it came, a page that
// lost a match came out short with a next link, which showed that
// something was withheld (a search sent on its own is refilled). Such a
// searchset, when it pages, is now judged, refilled and recorded as the
// same search sent on its own (processPage): its entry's request as a
// search's first GET, the searchset as that search's first upstream page,
// the same page size rule and page tokens in its links, refilled from the
// upstream's next pages within Requests.RefillPages. The batch's own run
// no longer holds the searchset's items (the entry's run records and
// explains them), and its high-water mark reads the page's.
//
// A server may answer a batch entry's search with its first page and no
// links at all (Medplum does): the page then came out short all the same.
// Such a searchset that lost a match is filled from the same search sent
// on its own, read from its first page, to as many matches as the batch's
// answer held (the server's page size, or all there were), and goes
// without links, as the server's answer had none.

// entryPage is a batch entry's searchset as the same search on its own
// renders it.
type entryPage struct {
	out  []byte
	mark labels.Set
}

// pageEntrySearches renders each searchset (or history) of root, the
// batch-response or transaction-response of the caller's own batch, that
// pages, or that has no links and lost a match, as the search of its entry
// sent on its own. An entry whose
// request cannot be read again as a GET (the request's entries not known,
// a POST _search) withholds the batch: its page could not be refilled,
// and sent short it would tell that something was withheld.
func (r *run) pageEntrySearches(ctx context.Context, root *bundleNode) error {
	var reqs []batchEntryRequest // redact.go
	gone := map[*item]bool{}
	for i, e := range root.entries {
		b := e.nested
		if b == nil || b.typ != "searchset" && b.typ != "history" {
			continue
		}
		// short: a searchset without paging links (Medplum writes none
		// in a batch's answer) that lost a match.
		short := false
		if !b.hasPaging {
			if !r.lostMatch(b) || r.wholeSearch(b) {
				// A page that lost nothing, or one whose total says it
				// holds every match of its search (cut, it is what a
				// server without the withheld matches answers, its
				// total lowered: entries.go decrementedTotal): judged
				// as it came.
				continue
			}
			short = true
		}
		if reqs == nil {
			var ok bool
			if reqs, ok = batchEntryRequests(r.ex); !ok {
				reqs = []batchEntryRequest{}
			}
		}
		var sub *exchange
		ok := len(reqs) == len(root.entries)
		if ok {
			sub, ok = entryExchange(r.ex, reqs[i])
		}
		switch {
		case ok:
		case short:
			// The server's answer does not line up with the request's
			// entries (no server answers so): judged as it came, every
			// member counting (redact.go batchEntryCutQueries).
			continue
		default:
			return fail(http.StatusBadGateway, "processing", "a batch entry's search pages, and only a GET search whose request can be read again is refilled; send the search as its own request", nil)
		}
		if r.enrolmentCut {
			// A Patient of the batch had its Part 2 enrolment cut: the
			// program's directory resources stay withheld in this
			// search too, and on its later pages, as in the batch's
			// other entries (enrolment.go withholdProgramDirectory).
			sub.pageFlags = pageEnrolmentCut
		}
		var er *run
		var eroot *bundleNode
		var err error
		if short {
			switch {
			case b.typ == "searchset" && (sub.req.Interaction == Search || sub.req.Interaction == Operation):
				// An operation whose answer is a searchset pages by
				// _count as a search does (Patient/$everything): on
				// its own it is refilled (processPage), so here too.
			case b.typ == "history" && sub.req.Interaction == History && sub.req.ID == "":
			default:
				// One resource's history pages as the server's.
				continue
			}
			// Refilled from the same search sent on its own, read from
			// its first page: as many matches as the batch's answer
			// held (the server's page size, or all there were), no
			// links, as that answer had none.
			rel := "/" + sub.req.Path
			if sub.getQuery != "" {
				rel += "?" + sub.getQuery
			}
			prev := r.s.newRun(sub, nil)
			prev.enrolmentCut = r.enrolmentCut
			if er, eroot, err = r.s.judgePage(ctx, prev, b.typ, rel); err != nil {
				if errors.Is(err, errNotSameSearch) {
					// A server that answers the search on its own with
					// no searchset (none does): the page as it came.
					continue
				}
				return err
			}
			er.ex.window.size = len(r.matchEntries(b))
			er.noLinks = true
		} else {
			if er, eroot, _, err = r.s.judge(ctx, sub, r.body[b.start:b.end]); err != nil {
				return err
			}
		}
		if eroot == nil || !er.windowed(eroot) {
			continue // pages as the upstream does on its own too (one resource's history)
		}
		er.entry = true
		out, st, _, err := er.processPage(ctx, eroot)
		if err != nil {
			return err
		}
		if st != nil { // cannot be (entry): withhold, never send it as it came
			return fail(http.StatusInternalServerError, "exception", "a batch entry's search could not be rendered; the response was withheld", nil)
		}
		var m labels.Mark
		er.markDisclosed(eroot, &m)
		for _, pr := range er.merged {
			pr.r.markDisclosed(pr.root, &m)
		}
		b.paged = &entryPage{out: out, mark: m.Set()}
		r.entryNotices = append(r.entryNotices, er.notices...)
		for _, ne := range b.entries {
			dropItems(ne, gone)
		}
	}
	r.dropGone(gone)
	return nil
}

// entryExchange is the exchange of a batch entry's GET as the same
// request sent on its own: a first GET, its query as the entry wrote it
// (the request side refused an entry whose query it would rewrite).
func entryExchange(ex *exchange, er batchEntryRequest) (*exchange, bool) {
	if !strings.EqualFold(er.Method, http.MethodGet) {
		return nil, false
	}
	path, raw, _ := strings.Cut(er.URL, "?")
	if strings.Contains(path, "://") || strings.IndexByte(er.URL, '#') >= 0 {
		return nil, false
	}
	req, err := parseFHIRPath(http.MethodGet, path)
	if err != nil || strings.HasSuffix(req.Path, "_search") {
		return nil, false
	}
	return &exchange{
		requestID: ex.requestID, caller: ex.caller, req: req, publicBase: ex.publicBase,
		query: queryForLedger(req.Path, raw), start: ex.start, explain: ex.explain,
		firstGet: true, getQuery: raw,
	}, true
}

// withEntryNotices adds to ns the notices of the batch entries' paged
// searches (pageEntrySearches), once each.
func (r *run) withEntryNotices(ns []policy.Notice) []policy.Notice {
	if len(r.entryNotices) == 0 {
		return ns
	}
	byID := map[string]policy.Notice{}
	for _, n := range append(ns, r.entryNotices...) {
		byID[n.ID] = n
	}
	return sortedNotices(byID)
}

// lostMatch reports whether a match of b is withheld, or left out (a
// history's deletion of a resource no disclosed version of which it
// holds).
func (r *run) lostMatch(b *bundleNode) bool {
	kept := map[*entryNode]bool{}
	for _, e := range r.keptEntries(b) {
		kept[e] = true
	}
	for _, e := range r.matchEntries(b) {
		if !kept[e] || e.item != nil && !e.item.class.decision.Permitted() {
			return true
		}
	}
	return false
}

// wholeSearch reports whether b says it holds every match of its search:
// a total equal to its matches.
func (r *run) wholeSearch(b *bundleNode) bool {
	if b.totalIdx < 0 {
		return false
	}
	m := b.members[b.totalIdx]
	vs, ve := trim(r.body, m.vStart, m.end)
	n, err := strconv.Atoi(string(r.body[vs:ve]))
	return err == nil && n == len(r.matchEntries(b))
}
