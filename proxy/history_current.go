package proxy

import (
	"context"
	"errors"
	"sync"
)

// historyCurrentReads is how many current versions withholdVersionsOfWithheld
// reads from the upstream at once for one history page.
const historyCurrentReads = 4

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
// The history of one resource needs none of this (its current version was
// read and decided before it was asked for), nor does a history Bundle
// inside another answer that is not paged: all of it is on its one page.
func (r *run) withholdVersionsOfWithheld(ctx context.Context, root *bundleNode) error {
	if root == nil || root.typ != "history" || r.ex == nil || r.ex.req.Interaction != History || r.ex.req.ID != "" {
		return nil
	}
	type resource struct{ typ, id string }
	var (
		order []resource
		its   = map[resource][]*item{}
	)
	for _, e := range root.entries {
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
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(historyCurrentReads, len(pending)); w++ {
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
	for i := range pending {
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
