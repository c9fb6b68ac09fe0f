package proxy

import (
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
	return r.orphanIncludes(b)
}

func (r *run) orphanIncludes(b *bundleNode) error {
	for _, e := range b.entries {
		if e.nested != nil {
			if err := r.orphanIncludes(e.nested); err != nil {
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
	type include struct {
		it   *item
		self string
		refs map[string]bool
		kept bool
	}
	var incs []*include
	referenced, matches := map[string]bool{}, map[string]bool{}
	for _, e := range b.entries {
		if e.item == nil || !e.item.class.decision.Permitted() {
			continue
		}
		refs, err := r.referencesOf(e.item)
		if err != nil {
			return rewriteFailure(err)
		}
		inc, err := r.isInclude(e)
		if err != nil {
			return rewriteFailure(err)
		}
		if inc {
			incs = append(incs, &include{it: e.item, self: e.item.res.Type + "/" + e.item.res.ID, refs: refs})
			continue
		}
		matches[e.item.res.Type+"/"+e.item.res.ID] = true
		for ref := range refs {
			referenced[ref] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, in := range incs {
			if in.kept || !referenced[in.self] && !anyIn(in.refs, matches) {
				continue
			}
			in.kept, changed = true, true
			for ref := range in.refs {
				referenced[ref] = true
			}
		}
	}
	for _, in := range incs {
		if !in.kept {
			in.it.class = withheldClass(in.it.class, "include-orphaned",
				"an included resource that only withheld entries reference")
		}
	}
	return nil
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

// isInclude reports whether the entry's search.mode is "include".
func (r *run) isInclude(e *entryNode) (bool, error) {
	s := e.parts[partSearch]
	if s.start < 0 || r.body[s.start] != '{' {
		return false, nil
	}
	vs, ve, ok, err := fjson.Lookup(r.body, s.start, "mode")
	if err != nil || !ok {
		return false, err
	}
	raw, _ := fjson.RawString(r.body, vs, ve)
	return fjson.KeyIs(raw, "include"), nil
}

// referencesOf returns the "Type/id" of every reference the item's
// resource makes (Reference.reference anywhere in it, contained resources
// included; relative, absolute or versioned).
func (r *run) referencesOf(it *item) (map[string]bool, error) {
	out := map[string]bool{}
	var walk func(vs, ve int) error
	walk = func(vs, ve int) error {
		switch r.body[vs] {
		case '{':
			return fjson.ObjectEach(r.body, vs, func(key []byte, ks, ke int) error {
				if keyName(key) == "reference" && r.body[ks] == '"' {
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
	return out, walk(it.start, it.end)
}
