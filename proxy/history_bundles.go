package proxy

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// bundleCurrent is what the current version of a stored Bundle says of
// its versions on a type or system history page, for the caller: the
// labels it carries as a whole, or that the caller may not read it.
type bundleCurrent struct {
	labels  labels.Set
	missing bool
}

// bundleCurrents are the current versions of a page's stored Bundles, by
// id (currentBundles).
type bundleCurrents map[string]bundleCurrent

// labelled reports whether a current version carries labels as a whole.
func (c bundleCurrents) labelled() bool {
	for _, b := range c {
		if len(b.labels) > 0 {
			return true
		}
	}
	return false
}

// currentBundles reads, for each stored Bundle with a version on a type
// or system history page of root (GET Bundle/_history, GET _history, a
// batch entry's), its current version and judges it as a read of it by
// the caller would be (Server.currentBundle), as guardStoredBundle judges
// a Bundle's vread and instance history (0edb896). A Bundle version is a
// nested Bundle, no item, so withholdVersionsOfWithheld passes it by;
// judged on its own labels, a collection stored unlabelled (v1) and
// labelled R as a whole since (v2) gave org-b v1's Condition ('Opioid use
// disorder' in text alone) from a page holding both, or v1 alone, its
// current version on another page or past the window (QA round 38, area
// D). The labels each current version carries label the entries of every
// version of it on the page (priorVersionLabels); one the caller may not
// read (missing, a document whose Composition is withheld, a version
// without a valid id) takes its versions with it (withholdBundleVersions);
// one deleted (410) keeps them, as a resource's do; a read that fails
// withholds the page. Four are read at a time; a page without Bundle
// versions reads nothing and allocates nothing.
func (r *run) currentBundles(ctx context.Context, root *bundleNode) (bundleCurrents, *Failure) {
	var ids []string
	r.eachBundleVersion(root, func(b *bundleNode) {
		if id := r.bundleID(b); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	})
	if len(ids) == 0 {
		return nil, nil
	}
	return r.readCurrentBundles(ctx, ids)
}

// readCurrentBundles reads and judges the current versions of the stored
// Bundles ids, four at a time (currentBundles).
func (r *run) readCurrentBundles(ctx context.Context, ids []string) (bundleCurrents, *Failure) {
	current := make([]bundleCurrent, len(ids))
	failures := make([]*Failure, len(ids))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(historyCurrentReads, len(ids)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if !fhirID.MatchString(ids[i]) { // no id a server gives: not known
					current[i].missing = true
					continue
				}
				ls, _, f := r.s.currentBundle(ctx, r.ex, fhirRequest{Interaction: Read, Type: "Bundle", ID: ids[i]}, true)
				switch {
				case f == nil:
					current[i].labels = ls
				case errors.Is(f, errMissing):
					current[i].missing = true
				default:
					failures[i] = f
				}
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	out := make(bundleCurrents, len(ids))
	for i, id := range ids {
		if failures[i] != nil {
			return nil, failures[i]
		}
		out[id] = current[i]
	}
	return out, nil
}

// withholdBundleVersions withholds every version on the page of a stored
// Bundle whose current version the caller may not read (currentBundles):
// each resource in it, and the version itself (keptEntries leaves it out
// whole, as a document whose Composition is withheld).
func (r *run) withholdBundleVersions(root *bundleNode) {
	if r.priorBundles == nil {
		return
	}
	r.eachBundleVersion(root, func(b *bundleNode) {
		if r.priorBundles[r.bundleID(b)].missing {
			b.gone = true
			withholdAll(b)
		}
	})
}

// withholdAll withholds every resource of b and of the Bundles nested in
// it.
func withholdAll(b *bundleNode) {
	for _, e := range b.entries {
		switch {
		case e.nested != nil:
			withholdAll(e.nested)
		case e.item != nil && e.item.class.decision.Permitted():
			e.item.class = withheldClass(e.item.class, "version-withheld", "the current version of this Bundle is withheld")
		}
	}
}

// eachBundleVersion calls fn with each stored Bundle version of root's
// type or system history pages (versionPage).
func (r *run) eachBundleVersion(root *bundleNode, fn func(*bundleNode)) {
	if root == nil || r.ex == nil {
		return
	}
	pages := func(page *bundleNode) {
		for _, e := range page.entries {
			if e.nested != nil {
				fn(e.nested)
			}
		}
	}
	if r.versionPage(root, 0) {
		pages(root)
		return
	}
	if r.ex.req.Interaction != Batch {
		return
	}
	for i, e := range root.entries {
		if r.batchHistory(i, e.nested) {
			pages(e.nested)
		}
	}
}

// versionPage reports whether b, at depth, is a page of a type or system
// history whose versions are judged by their current ones: the
// response's own, or a batch entry's history (withholdVersionsOfWithheld).
func (r *run) versionPage(b *bundleNode, depth int) bool {
	if b == nil || r.ex == nil {
		return false
	}
	switch depth {
	case 0:
		return r.historyRoot(b)
	case 1:
		return b.typ == "history" && r.ex.req.Interaction == Batch
	}
	return false
}

// batchHistory reports whether b, the Bundle of the response's entry i,
// is a batch entry's page of a type or system history: of type history,
// or of any type when the request's entry i asked for one
// (exchange.batchHistories; historyRoot).
func (r *run) batchHistory(i int, b *bundleNode) bool {
	if b == nil || r.ex == nil || r.ex.req.Interaction != Batch {
		return false
	}
	return b.typ == "history" || i < len(r.ex.batchHistories) && r.ex.batchHistories[i]
}

// historyRoot reports whether b, the response's Bundle, is a page of a
// type or system history (historyPage): of type history, or of any type
// when a type or system history was asked for. A server answering
// Condition/_history or _history with a searchset, a collection or a
// batch-response gave org-b the ordinary older version of a Condition
// whose current SUD version it may not read, as 2253e0f found of a
// Bundle's instance history (QA round 38, area J).
func (r *run) historyRoot(b *bundleNode) bool {
	return r.ex.historyPage() && (b.typ == "history" || r.ex.req.Interaction == History || r.ex.pageFlags&pageHistory != 0)
}

// historyPage reports whether the response to ex, a history Bundle, is a
// page of a type or system history: one asked for so, or a page the
// upstream names by a handle at its base (HAPI FHIR's ?_getpages=), which
// a followed page token routes as a search of the base (origin.go). The
// second page of Bundle/_history, so named, gave org-b an unlabelled older
// version of a collection labelled R since, and of Condition/_history an
// ordinary older version of a Condition whose current one it may not read
// (QA round 38, area I). A handle's page of one resource's history is
// judged so too, which withholds no more than its current version does.
// A page token minted on a history's page says so (pageHistory): a server
// answering the handle's page as a searchset or a collection, or naming it
// below a type (Condition?_cursor=), gave org-b the older versions these
// checks withhold (QA round 39, area A).
func (ex *exchange) historyPage() bool {
	return ex.req.Interaction == History && ex.req.ID == "" ||
		ex.fromPage && (ex.pageFlags&pageHistory != 0 || ex.req.Interaction == Search && ex.req.Type == "")
}

// bundleID is the id of the Bundle b ("" when it has none, or one that is
// no string).
func (r *run) bundleID(b *bundleNode) string {
	if b.idAt.end == 0 {
		return ""
	}
	id, _ := fjson.StringValue(r.body, b.idAt.start, b.idAt.end)
	return id
}
