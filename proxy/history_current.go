package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

const (
	// historyCurrentReads is how many current versions
	// withholdVersionsOfWithheld reads from the upstream at once for one
	// history page, one by one.
	historyCurrentReads = 4
	// historyCurrentIDs and historyCurrentQuery bound one Type?_id= search
	// for the current versions of a page's resources: at most so many ids,
	// and so many bytes of them, so that URLs stay short.
	historyCurrentIDs   = 50
	historyCurrentQuery = 2000
)

// withholdVersionsOfWithheld withholds, in a page of a type or system
// history, every version of a resource whose current version the caller may
// not read. withholdSiblings judges the versions a page holds; a resource's
// current version may be on another page (the newest first, with _count=1 on
// the page before), or past the history's window (_since, _at), and its
// older ordinary version alone would show that a resource which reads as
// missing exists. So each resource with a version disclosed on the page is
// read as it is now and decided for the caller, as a vread is
// (guardInstance): one withheld, or missing, takes its versions on the page
// with it; one deleted (410) keeps them, as its history does. A read that
// fails withholds the page (the failure is the response's).
//
// The current versions are asked for by type first, in Type?_id=a,b,c
// searches (currentBySearch): a client syncing by history reads pages of
// many resources, and a read of each doubled its requests to the server.
// A resource the search does not list (deleted, withheld by the server,
// past a page size the server caps) is read on its own, four at a time.
//
// A batch entry's type or system history is judged so too, paged or not:
// one answered on a single page without links (_at, whose versions were
// current at some time in a window, or a server's batch answer) can hold
// an older version alone as well (QA round 31, area D). The history of
// one resource needs none of this: its current version was read and
// decided before it was asked for. A history Bundle stored as a resource
// (Bundle/x) is judged on its own entries only. The versions of stored
// Bundles on a page are nested Bundles, no items: currentBundles
// (history_bundles.go) judges them by their current versions.
func (r *run) withholdVersionsOfWithheld(ctx context.Context, root *bundleNode) error {
	if root == nil || r.ex == nil {
		return nil
	}
	var pages []*bundleNode
	switch {
	case r.historyRoot(root): // history_bundles.go
		pages = []*bundleNode{root}
	case r.ex.req.Interaction == Batch:
		// A batch entry's type or system history (a resource's history
		// is refused in a batch: writeguard.go), paged or not: a server
		// answering it on one page without links (_at, _since, Medplum's
		// batch answer) holds an older version alone as a page does.
		for i, e := range root.entries {
			if r.batchHistory(i, e.nested) {
				pages = append(pages, e.nested)
			}
		}
	}
	type resource struct{ typ, id string }
	var (
		order []resource
		its   = map[resource][]*item{}
	)
	for _, page := range pages {
		for _, e := range page.entries {
			it := e.item
			if it == nil || it.res == nil || it.res.Type == "" || it.res.ID == "" {
				continue
			}
			k := resource{it.res.Type, it.res.ID}
			if _, ok := its[k]; !ok {
				order = append(order, k)
			}
			its[k] = append(its[k], it)
		}
	}
	// Only resources with a version still disclosed need reading.
	pending := order[:0]
	for _, k := range order {
		for _, it := range its[k] {
			if it.class.decision.Permitted() {
				pending = append(pending, k)
				break
			}
		}
	}
	if len(pending) == 0 {
		return nil
	}
	withheld := make([]bool, len(pending))
	failures := make([]*Failure, len(pending))
	// By search first: the resources of each type with two or more.
	byType := map[string][]int{}
	for i, k := range pending {
		byType[k.typ] = append(byType[k.typ], i)
	}
	var single []int
	for typ, idx := range byType {
		if len(idx) < 2 {
			single = append(single, idx...)
			continue
		}
		ids := make([]string, len(idx))
		for j, i := range idx {
			ids[j] = pending[i].id
		}
		permitted, f := r.currentBySearch(ctx, typ, ids)
		if f != nil {
			return f
		}
		for j, i := range idx {
			p, listed := permitted[ids[j]]
			switch {
			case !listed:
				single = append(single, i)
			case !p:
				withheld[i] = true
			}
		}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(historyCurrentReads, len(single)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex := *r.ex // each read decides as this caller, on its own copy
			for i := range next {
				k := pending[i]
				_, f := r.s.stored(ctx, &ex, fhirRequest{Interaction: Read, Type: k.typ, ID: k.id}, true)
				switch {
				case f == nil:
				case errors.Is(f, errMissing):
					withheld[i] = true
				default:
					failures[i] = f
				}
			}
		}()
	}
	for _, i := range single {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, k := range pending {
		if failures[i] != nil {
			return failures[i]
		}
		if !withheld[i] {
			continue
		}
		for _, it := range its[k] {
			if it.class.decision.Permitted() {
				it.class = withheldClass(it.class, "version-withheld", "the current version of this resource is withheld")
			}
		}
	}
	return nil
}

// currentBySearch asks the upstream for the current versions of ids of typ
// (typ?_id=a,b,c&_count=n, in chunks whose URLs stay short, first pages
// only) and decides each one listed for this caller as a read of it
// (decideStored). It returns, for each id listed, whether the caller may
// read it; ids not listed are left to reads of their own. A search the
// upstream refuses or answers with anything but a searchset lists none
// (the reads decide, and fail closed); a listed resource that cannot be
// decided fails the page.
func (r *run) currentBySearch(ctx context.Context, typ string, ids []string) (map[string]bool, *Failure) {
	out := make(map[string]bool, len(ids))
	ex := *r.ex
	for chunk := range idChunks(ids, historyCurrentIDs, historyCurrentQuery) {
		want := make(map[string]bool, len(chunk))
		var ask []string
		for _, id := range chunk {
			if fhirID.MatchString(id) && !want[id] {
				want[id] = true
				ask = append(ask, id)
			}
		}
		if len(ask) == 0 {
			continue
		}
		q := url.Values{"_id": {strings.Join(ask, ",")}, "_count": {strconv.Itoa(len(ask))}}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.s.upBase+"/"+typ+"?"+q.Encode(), nil)
		if err != nil {
			return nil, classify(err)
		}
		req.Header.Set("Accept", "application/fhir+json")
		req.Header.Set("X-Request-Id", ex.requestID)
		// What it lists decides the page now: a search the server
		// answers from one asked a minute before (HAPI FHIR's default
		// unless told no-cache) judged a resource by its old version.
		req.Header.Set("Cache-Control", "no-cache")
		resp, err := r.s.client.Do(req)
		if err != nil {
			if f := classify(err); f.Status == http.StatusGatewayTimeout {
				return nil, f
			}
			continue // the reads decide
		}
		body, err := r.s.readBody(resp)
		if err != nil || resp.StatusCode != http.StatusOK || !isJSON(resp.Header.Get("Content-Type")) {
			recycleOut(body)
			continue
		}
		var b struct {
			ResourceType string `json:"resourceType"`
			Type         string `json:"type"`
			Entry        []struct {
				Resource json.RawMessage `json:"resource"`
			} `json:"entry"`
		}
		if json.Unmarshal(body, &b) != nil || b.ResourceType != "Bundle" || b.Type != "searchset" {
			continue
		}
		for _, e := range b.Entry {
			var id struct{ ResourceType, ID string }
			if json.Unmarshal(e.Resource, &id) != nil || id.ResourceType != typ || !want[id.ID] {
				continue // an include, an OperationOutcome, another resource
			}
			if _, seen := out[id.ID]; seen {
				continue
			}
			_, ok, f := r.s.decideStored(ctx, &ex, e.Resource)
			if f != nil {
				return nil, f
			}
			out[id.ID] = ok
		}
	}
	return out, nil
}

// idChunks yields ids in runs of at most most ids and, but for a single
// id, at most bytes bytes of them with a separator each: the values of
// _id searches whose URLs stay short (currentBySearch, the consent
// presence check).
func idChunks(ids []string, most, bytes int) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		for len(ids) > 0 {
			n, size := 0, 0
			for n < len(ids) && n < most && (n == 0 || size+len(ids[n])+1 <= bytes) {
				size += len(ids[n]) + 1
				n++
			}
			if !yield(ids[:n]) {
				return
			}
			ids = ids[n:]
		}
	}
}
