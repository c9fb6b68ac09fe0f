package proxy

import (
	"net/url"
	"strings"

	"github.com/ds4p/ds4p/internal/fhirsearch"
	"github.com/ds4p/ds4p/internal/fjson"
)

// An _include entry is in a searchset only because an entry of the page
// references it. When every entry that references it is withheld, the
// included resource still tells what the withheld entry pointed at: the
// Part 2 program's Organization, Location or Practitioner in an answer
// about one patient says the patient was treated there (42 CFR 2.13(c)),
// and a Patient included by a search on a code the label rules do not know
// says whose record matched. Found by the leak oracle (test/oracle):
// Encounter?patient=P&_include=Encounter:location with P's Part 2
// encounter withheld still carried Location/part2-clinic-site.

// withholdOrphanIncludes withholds, in every searchset that already lost
// something, each include entry that no disclosed entry references and that
// references no disclosed match (a _revinclude entry points at its match).
// Includes referenced by a kept include (_include:iterate) stay with it.
func (r *run) withholdOrphanIncludes(b *bundleNode) error {
	if b == nil || r.totalWithheld() == 0 {
		return nil
	}
	return r.orphanIncludes(b, r.batchEntryCutQueries(b))
}

// orphanIncludes withholds the orphaned includes of b and the Bundles in
// it; entries are what the searches of a batch's entries read
// (batchEntryCutQueries), for the searchsets that answer them.
func (r *run) orphanIncludes(b *bundleNode, entries map[*bundleNode]*entryCutQuery) error {
	for _, e := range b.entries {
		if e.nested != nil {
			if err := r.orphanIncludes(e.nested, entries); err != nil {
				return err
			}
		}
	}
	if b.typ != "searchset" {
		return nil
	}
	if has, err := r.hasInclude(b); err != nil || !has {
		return err // no include entry: nothing to withhold, no reference to read
	}
	// In the response's own searchset, or a batch entry's whose query is
	// known, with an entry cut, a reference brings an include only through
	// a member an _include (forward) or _revinclude (back to a match) of
	// the query follows: a visible reference in another member
	// (derivedFrom) does not explain an include of has-member, which the
	// cut link brought. Elsewhere, or when the query cannot tell, every
	// reference counts.
	var fwd, rev map[string]*linkMembers
	if anyCutEntry(b) {
		switch eq := entries[b]; {
		case b.searchset:
			fwd, rev = r.includeLinks()
		case eq != nil:
			fwd, rev = eq.fwd, eq.rev
		}
	}
	var matches, incs []*item
	for _, e := range b.entries {
		if e.item == nil || !e.item.class.decision.Permitted() {
			continue
		}
		inc, err := r.isInclude(e)
		if err != nil {
			return rewriteFailure(err)
		}
		if inc {
			incs = append(incs, e.item)
		} else {
			matches = append(matches, e.item)
		}
	}
	brought, err := r.broughtIncludes(matches, incs, fwd, rev)
	if err != nil {
		return rewriteFailure(err)
	}
	for i, it := range incs {
		if !brought[i] {
			it.class = withheldClass(it.class, "include-orphaned",
				"an included resource that only withheld entries reference")
		}
	}
	return nil
}

// broughtIncludes reports which of incs the disclosed matches bring, as a
// server would have brought them: an include a match references, or that
// references a match (a _revinclude: its references by rev), or that an
// include brought references (_include:iterate), to a fixpoint. fwd and
// rev are the members the query's links follow (includeLinks), nil when
// every reference counts. Shared by withholdOrphanIncludes (a whole page)
// and a refilled page's window (windowIncludes, refill.go).
func (r *run) broughtIncludes(matches, incs []*item, fwd, rev map[string]*linkMembers) ([]bool, error) {
	referenced, selves := map[string]bool{}, map[string]bool{}
	for _, it := range matches {
		refs, err := r.referencesOf(it, fwd)
		if err != nil {
			return nil, err
		}
		selves[it.res.Type+"/"+it.res.ID] = true
		for ref := range refs {
			referenced[ref] = true
		}
	}
	type include struct {
		self          string
		refs, revRefs map[string]bool // forward (_include:iterate); to a match (_revinclude)
	}
	cands := make([]include, len(incs))
	for i, it := range incs {
		refs, err := r.referencesOf(it, fwd)
		if err != nil {
			return nil, err
		}
		cands[i] = include{self: it.res.Type + "/" + it.res.ID, refs: refs, revRefs: refs}
		if rev != nil {
			if cands[i].revRefs, err = r.referencesOf(it, rev); err != nil {
				return nil, err
			}
		}
	}
	brought := make([]bool, len(incs))
	for changed := true; changed; {
		changed = false
		for i, in := range cands {
			if brought[i] || !referenced[in.self] && !anyIn(in.revRefs, selves) {
				continue
			}
			brought[i], changed = true, true
			for ref := range in.refs {
				referenced[ref] = true
			}
		}
	}
	return brought, nil
}

func anyCutEntry(b *bundleNode) bool {
	for _, e := range b.entries {
		if e.item != nil && e.item.isCut() && e.item.class.decision.Permitted() {
			return true
		}
	}
	return false
}

// linkMembers are the top-level members the include parameters of one
// source type follow; any: every member.
type linkMembers struct {
	any     bool
	members []string
}

// includeLinks reads the _include and _revinclude parameters of the query
// (any modifier: :iterate), by source type, from the query and a POST
// _search's form. nil, nil when the query is not known here or names every
// source (*).
func (r *run) includeLinks() (fwd, rev map[string]*linkMembers) {
	vals, ok := r.searchQuery() // redact.go
	if !ok {
		return nil, nil
	}
	return includeLinksOf(vals)
}

// includeLinksOf reads the _include and _revinclude parameters of vals, by
// source type; nil, nil when one names every source (*).
func includeLinksOf(vals url.Values) (fwd, rev map[string]*linkMembers) {
	fwd, rev = map[string]*linkMembers{}, map[string]*linkMembers{}
	for name, vs := range vals {
		var m map[string]*linkMembers
		switch code, _, _ := strings.Cut(name, ":"); code {
		case "_include":
			m = fwd
		case "_revinclude":
			m = rev
		default:
			continue
		}
		for _, v := range vs {
			src, param, _ := strings.Cut(strings.TrimSpace(v), ":")
			param, _, _ = strings.Cut(param, ":") // Source:param:Target
			if src == "*" || src == "" {
				return nil, nil
			}
			l := m[src]
			if l == nil {
				l = &linkMembers{}
				m[src] = l
			}
			p, ok := fhirsearch.Lookup(src, param)
			if !ok || p.AnyMember {
				l.any = true
				continue
			}
			l.members = append(l.members, p.Members...)
		}
	}
	return fwd, rev
}

func anyIn(refs, set map[string]bool) bool {
	for ref := range refs {
		if set[ref] {
			return true
		}
	}
	return false
}

// hasInclude reports whether a disclosed entry of b is an include.
func (r *run) hasInclude(b *bundleNode) (bool, error) {
	for _, e := range b.entries {
		if e.item == nil || !e.item.class.decision.Permitted() {
			continue
		}
		inc, err := r.isInclude(e)
		if err != nil {
			return false, rewriteFailure(err)
		}
		if inc {
			return true, nil
		}
	}
	return false, nil
}

// isInclude reports whether the entry's search.mode is "include". A
// search written as an array of one object is read as that object, as
// entryPart reads it: read as no include, the entry counted as a match,
// and an include only a withheld entry named stayed (QA round 34, area A).
func (r *run) isInclude(e *entryNode) (bool, error) {
	s := e.parts[partSearch]
	if s.start < 0 {
		return false, nil
	}
	obj, err := partObject(r.body, s.start)
	if err != nil {
		return false, nil // not an include: entryPart reads it as no match
	}
	vs, ve, ok, err := fjson.Lookup(r.body, obj, "mode")
	if err != nil || !ok {
		return false, err
	}
	raw, _ := fjson.RawString(r.body, vs, ve)
	return fjson.KeyIs(raw, "include"), nil
}

// referencesOf returns the "Type/id" of every reference the item's
// resource makes (Reference.reference anywhere in it, contained resources
// included; relative, absolute or versioned), but those in an element cut
// from it or masked: the caller does not see that link, so an include it
// brought would show it (Observation?_include=Observation:has-member with
// the hasMember cut named the withheld member).
//
// With links (includeLinks), only the references below the top-level
// members the links of its type follow count.
func (r *run) referencesOf(it *item, links map[string]*linkMembers) (map[string]bool, error) {
	out := map[string]bool{}
	cut := it.isCut()
	var walk func(vs, ve int) error
	walk = func(vs, ve int) error {
		if cut && it.cutAt(vs, ve) {
			return nil
		}
		switch r.body[vs] {
		case '{':
			return fjson.ObjectEach(r.body, vs, func(key []byte, ks, ke int) error {
				if keyName(key) == "reference" && r.body[ks] == '"' {
					if cut && (it.cutAt(ks, ke) || r.twinCut(it, vs)) {
						return nil // its "_reference" (an inline label on the link) was cut: so is it
					}
					if u, ok := fjson.StringValue(r.body, ks, ke); ok {
						if ref := refOf(u); ref != "" {
							out[ref] = true
						}
					}
					return nil
				}
				return walk(ks, ke)
			})
		case '[':
			return fjson.ArrayEach(r.body, vs, walk)
		}
		return nil
	}
	if links == nil {
		return out, walk(it.start, it.end)
	}
	l := links[it.res.Type]
	if l == nil {
		return out, nil // no link of its type: it brought nothing
	}
	if l.any {
		return out, walk(it.start, it.end)
	}
	return out, fjson.ObjectEach(r.body, it.start, func(key []byte, ks, ke int) error {
		if !fhirsearch.MembersReadKey(l.members, keyName(key)) {
			return nil
		}
		return walk(ks, ke)
	})
}

// twinCut reports whether the "_reference" member of the object at vs (the
// extensions of its reference, an inline label among them) lies in an
// element cut from it or masked: the reference goes with it
// (primitiveTwins).
func (r *run) twinCut(it *item, vs int) bool {
	s, e, ok, err := fjson.Lookup(r.body, vs, "_reference")
	if err != nil {
		return true // cannot be told: as cut
	}
	return ok && it.cutAt(s, e)
}
