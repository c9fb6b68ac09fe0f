package labels

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Target is a resource that a batch refers to through a propagating
// reference (see LabelAll) and that neither the batch nor the label cache
// knows: until its labels are known, the resources referring to it cannot
// be labelled completely.
type Target struct {
	Type, ID string
	// Ref is the reference as written (decoded, white space around it
	// removed): "Condition/1", or an absolute URL, which may name another
	// server's resource.
	Ref string
	// Version, when not "", asks for that version of the resource (a
	// vread): a reference naming it (Condition/1/_history/2) is labelled
	// from it as well as from the current one, since an older version may
	// have had a sensitive code the current one lost. The FetchFunc returns
	// that version or nothing.
	Version string
	// Canonical, when not "", asks for the resources of Type whose
	// canonical url is Canonical (CanonicalVersion is the version it
	// names, "" for none): a search (Questionnaire?url=..., of every
	// version: a server may keep only a revised form's current one),
	// whatever host the url names, since a canonical names a definition,
	// not where a server keeps it. ID is "" and Ref the canonical as
	// written. Every
	// resource the FetchFunc returns for it stands for it; none: it
	// passes nothing on. Such a target is never noted as known (its
	// matches are read again by the next batch naming it).
	Canonical, CanonicalVersion string
	// Identifier, when not "", asks for the resources of Type (a
	// directory type) carrying the identifier Identifier ("system|value"):
	// a search (Organization?identifier=...), since a reference naming a
	// department or role by identifier alone names whichever entries
	// carry it (QA round 43, helper D). ID is "" and Ref the identifier.
	// Every resource the FetchFunc returns for it stands for it; none: it
	// passes nothing on. Such a target is never noted as known.
	Identifier string
}

// Key is "Type/id".
func (t Target) Key() string { return t.Type + "/" + t.ID }

// DirectoryEntry reports whether t names a PractitionerRole, Location,
// HealthcareService, Organization or Device: an entry that stands for the Part 2
// program it names (Result.directory). Who performed a record does not
// change when such an entry is deleted, so a FetchFunc returns a deleted
// one's last version, not nothing, when programs are configured (the
// proxy's fetchTarget).
func (t Target) DirectoryEntry() bool {
	return t.Canonical == "" && t.Identifier == "" && directoryTypeTargets[t.Type]
}

// versionKey is "Type/id/_history/v" of the version a Target asks for.
func versionKey(typ, id, v string) string { return typ + "/" + id + "/_history/" + v }

// FetchFunc reads the targets from where the batch's resources came from.
// It returns the resources it found (each valid JSON, as fjson.Validate
// checks it), in any order; a target it returns nothing for is taken to be
// missing. An error means the targets cannot be known: the batch cannot be
// labelled completely, and Resolve returns the error.
type FetchFunc func(targets []Target) ([][]byte, error)

// DefaultKnownTTL is how long the cache takes a fetched target that passed
// nothing on (ordinary, or missing) to stay so, when Options.KnownTTL is 0.
const DefaultKnownTTL = 5 * time.Minute

// MaxResolved bounds the targets one batch fetches, over all its rounds.
const MaxResolved = 4096

// maxParentRounds bounds how deep Resolve reads a directory entry's
// parents (link.parent: a unit's partOf, a role's organization, a site's
// managing organization ...) past the depth labels travel (maxRounds).
// Such a link passes on only what the entry stands for, never a label, so
// an ordinary organisation tree deeper than labels travel is read to its
// root (each entry once, then known to the cache), and a program at its
// top makes the record the program's (propagate carries it down the whole
// chain). A deeper chain cannot be known, and is an error as one of labels
// is.
const maxParentRounds = 32

// Resolve completes what the batch knows before Finish: it asks fetch for
// the targets of the batch's propagating references that neither the batch
// nor the label cache knows, adds what fetch returns to the batch (labelled
// as the batch's own resources are, so that labels travel along chains
// through them, but not among the resources the caller added), and repeats
// for the targets those refer to, up to the propagation depth (a chain
// that goes on past it into unknown resources is an error: its start
// cannot be labelled). Finish then
// propagates through the fetched resources, and the cache remembers every
// fetched target: the sensitive ones as any resource, the others (ordinary
// or missing) for the cache's known-TTL, so that later responses fetch
// them again only after it.
//
// Without a cache Resolve still fetches, for this batch alone. A batch
// with more than MaxResolved unknown targets is an error: it cannot be
// labelled completely in reasonable time.
//
// Past the propagation depth, a target reached only through directory
// entries' parent links (or a Patient's enrolment links), from entries
// whose labels reach none of the batch's own resources, is still read, up
// to maxParentRounds: it can pass on only what an entry stands for
// (QA round 42, helper G's G-4).
func (b *Batch) Resolve(fetch FetchFunc) error {
	if !b.links || fetch == nil {
		return nil
	}
	now := time.Now()
	own := len(b.out)         // the caller's resources; those after are fetched
	var asked map[string]bool // allocated once there is something to ask
	for round := 0; ; round++ {
		var rel []bool
		if round >= maxRounds {
			rel = b.labelsReach(own)
		}
		targets, parentsOnly := b.unresolved(asked, now, rel)
		if len(targets) == 0 {
			break
		}
		if round >= maxRounds && !parentsOnly {
			// The chain goes on past the depth labels travel: what lies
			// beyond could make its start sensitive, and is not known.
			return errChainTooDeep
		}
		if round == maxParentRounds {
			return errParentsTooDeep
		}
		if len(asked)+len(targets) > MaxResolved {
			return errTooManyTargets
		}
		if asked == nil {
			asked = map[string]bool{}
			if b.l.cache != nil {
				b.gen = b.l.cache.generation() // before anything is read
			}
		}
		for _, t := range targets {
			asked[t.askKey()] = true
		}
		current, versions := splitVersions(targets)
		if len(current) > 0 {
			found, err := fetch(current)
			if err != nil {
				return err
			}
			for _, res := range found {
				dst := new(Result)
				if err := b.AddValid(res, dst); err != nil {
					return err
				}
			}
		}
		if len(versions) > 0 {
			if err := b.fetchVersions(fetch, versions); err != nil {
				return err
			}
		}
	}
	for k := range asked {
		if r, ok := b.versions[k]; ok && (len(inheritable(r.Effective())) > 0 || r.directory != "") {
			continue // a sensitive version, or one of the program's directory: read again for each batch (the cache holds current versions)
		}
		if strings.HasPrefix(k, absolutePrefix) || strings.HasPrefix(k, canonicalPrefix) || strings.HasPrefix(k, identPrefix) {
			continue // maybe another server's, or a search: not known by its Type/id (askKey)
		}
		b.fetched = append(b.fetched, k)
	}
	return nil
}

// canonicalPrefix starts the asked key of a canonical target (askKey).
const canonicalPrefix = "canon:"

// identPrefix starts the asked key of an identifier target (askKey).
const identPrefix = "ident:"

// identTypes are the types an identifier target is searched in
// (link.ident): the directory entries that stand for a program.
var identTypes = [...]string{"Organization", "PractitionerRole", "Location", "HealthcareService"}

// absolutePrefix starts the asked key of a target an absolute reference
// names (askKey).
const absolutePrefix = "abs:"

// askKey is the key a batch asks for t by: "Type/id" (with
// "/_history/v" for a version), or, when an absolute reference names it,
// that reference. An absolute reference may name another server's
// resource, which the FetchFunc does not read and so passes nothing on:
// asked by Type/id, a relative reference to the upstream's own resource
// of that Type/id in the same batch was taken as asked already and never
// read, and the cache then knew that Type/id to pass nothing on for its
// known-TTL, so later responses did not read it either (ids such as "1"
// collide across servers). An order naming an SUD Condition was labelled
// from nothing and disclosed (QA round 28). Targets asked by an absolute
// reference are not noted as known (Resolve).
func (t Target) askKey() string {
	if t.Canonical != "" {
		return canonicalPrefix + t.Type + " " + t.Canonical + "|" + t.CanonicalVersion
	}
	if t.Identifier != "" {
		return identPrefix + t.Type + " " + t.Identifier
	}
	if strings.IndexByte(t.Ref, ':') >= 0 {
		// The version too: the reference of a version names it and the
		// current one alike (labels.Target.Version).
		return absolutePrefix + t.Version + " " + t.Ref
	}
	if t.Version != "" {
		return versionKey(t.Type, t.ID, t.Version)
	}
	return t.Key()
}

// absolute reports whether lk's reference in resource b is absolute (an
// URL: relative references hold no ':').
func (lk link) absolute(b []byte) bool {
	if lk.decoded != "" {
		return strings.IndexByte(lk.decoded, ':') >= 0
	}
	return bytes.IndexByte(b[lk.start:lk.end], ':') >= 0
}

// splitVersions separates the targets asking for a version from the others.
func splitVersions(ts []Target) (current, versions []Target) {
	for _, t := range ts {
		if t.Version != "" {
			versions = append(versions, t)
		} else {
			current = append(current, t)
		}
	}
	return current, versions
}

// fetchVersions reads the named versions ts and keeps their labels in
// b.versions, apart from the batch's resources: they are not the current
// resources the batch's other references name, nor what the cache notes.
// A version's own references are followed: a directory entry's parents
// (link.parent), and a record's links (its encounter at the program's
// department, what it was derived from): such a version joins the batch,
// found by no reference, so that what they stand for and pass on is
// carried to it (QA round 43, helper F: an Observation whose encounter
// was Encounter/e1/_history/2, e1 then at the program's department, went
// to org-b once e1 moved). A
// resource answered without the version asked (no meta.versionId, or
// another) is taken as that version when it is the only one asked of its
// resource; else it is ignored (the proxy's FetchFunc refuses such
// answers).
func (b *Batch) fetchVersions(fetch FetchFunc, ts []Target) error {
	found, err := fetch(ts)
	if err != nil {
		return err
	}
	for _, res := range found {
		r, err := b.l.label(res, nil, nil, nil, true)
		if err != nil {
			return fmt.Errorf("labels: a version read to label the batch: %w", err)
		}
		key := ""
		for _, t := range ts {
			if t.Type != r.Type || t.ID != r.ID {
				continue
			}
			if t.Version == r.VersionID || r.VersionID == "" && key == "" {
				key = versionKey(t.Type, t.ID, t.Version)
				if t.Version == r.VersionID {
					break
				}
			}
		}
		if key == "" {
			continue
		}
		if b.versions == nil {
			b.versions = map[string]*Result{}
		}
		b.versions[key] = &r
		if r.directory == "" && (directoryTypeTargets[r.Type] && r.hasParent() || !directoryTypeTargets[r.Type] && len(r.links) > 0) {
			// A role, site or department as it was, at a unit of the
			// program's department: its parents are read and carried
			// down as the batch's (Resolve, parents), the version found
			// by no reference (unnamed) and noted nowhere (copied). Its
			// own program alone left an Observation performed by
			// PractitionerRole/r1/_history/2, r1 then at the program's
			// department, ordinary once r1 moved (QA round 43, helper A).
			r.copied, r.unnamed = true, true
			b.add(res, &r)
		}
	}
	return nil
}

// hasParent reports whether r has a parent link (link.parent).
func (r *Result) hasParent() bool {
	for _, lk := range r.links {
		if lk.parent {
			return true
		}
	}
	return false
}

var errChainTooDeep = fmt.Errorf("labels: references lead more than %d resources deep to resources unknown to the label cache", maxRounds)

var errParentsTooDeep = fmt.Errorf("labels: directory entries belong to entries more than %d deep unknown to the label cache", maxParentRounds)

var errTooManyTargets = fmt.Errorf("labels: more than %d resources referred to are unknown to the label cache", MaxResolved)

// labelsReach returns, for each resource of the batch, whether labels
// can travel from it to one of the batch's own resources (the first own):
// those, and the resources their links other than parent and enrolment
// links name, and so on. A resource read only as a directory entry's
// parent passes on what it stands for alone.
func (b *Batch) labelsReach(own int) []bool {
	ix := indexBatch(b.out)
	b.indexURLs(ix)
	rel := make([]bool, len(b.out))
	todo := make([]int, 0, own)
	for k := range min(own, len(b.out)) {
		rel[k] = true
		todo = append(todo, k)
	}
	mark := func(t int) {
		if t >= 0 && !rel[t] {
			rel[t] = true
			todo = append(todo, t)
		}
	}
	for len(todo) > 0 {
		k := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		for _, lk := range b.out[k].links {
			if lk.parent || lk.enrolment {
				continue
			}
			t := b.l.resolve(ix, b.out, k, b.resources[k], lk)
			if t.ok {
				mark(t.k)
			}
			for _, m := range t.more() {
				mark(m)
			}
		}
	}
	return rel
}

// Through what a target of unresolved is named (rel not nil).
const (
	viaParent = 1 << iota // a parent or enrolment link
	viaLabels             // another link, of a resource labels travel from (labelsReach)
)

// unresolved returns the targets of the batch's propagating links that the
// batch does not hold, the cache does not know and were not asked before.
// With rel (labelsReach) it also reports whether each of them is named
// through parent or enrolment links alone (links of resources whose labels
// reach none of the batch's own aside).
func (b *Batch) unresolved(asked map[string]bool, now time.Time, rel []bool) (out []Target, parentsOnly bool) {
	ix := indexBatch(b.out)
	b.indexURLs(ix)
	b.ix, b.ixLen = ix, len(b.out) // for Finish, when nothing is added after
	var seen map[string]bool
	var via map[string]uint8 // rel: how each target is named, by its askKey
	note := func(key string, k int, lk link) {
		if rel == nil {
			return
		}
		if via == nil {
			via = map[string]uint8{}
		}
		switch {
		case lk.parent || lk.enrolment:
			via[key] |= viaParent
		case k >= len(rel) || rel[k]:
			via[key] |= viaLabels
		}
	}
	for k, r := range b.out {
		for _, lk := range r.links {
			if lk.kind != refContent && lk.kind != refContext {
				continue
			}
			if lk.nowhere(r.Type) {
				continue // propagates nowhere in this type
			}
			if lk.ident {
				// Searched in each directory type, whatever the batch
				// holds: the upstream may keep other entries carrying it.
				for _, typ := range identTypes {
					t := Target{Type: typ, Ref: lk.decoded, Identifier: lk.decoded}
					note(t.askKey(), k, lk)
					if !asked[t.askKey()] && !seen[t.askKey()] {
						if seen == nil {
							seen = map[string]bool{}
						}
						seen[t.askKey()] = true
						out = append(out, t)
					}
				}
				continue
			}
			if lk.canonical {
				// (url is "" for a fragment alone: a form the response
				// contains, read as a reference below.)
				url, v := lk.canonicalOf(b.resources[k])
				t := Target{Type: canonicalType, Ref: url, Canonical: url, CanonicalVersion: v}
				if v != "" {
					t.Ref += "|" + v
				}
				note(t.askKey(), k, lk)
				// Held by the fullUrl it is (urn:uuid:..., a document's
				// form): not searched. A form of the answer with its url
				// (and version) does not hold it: the upstream may keep
				// others of that url, and a caller who can write one (an
				// ordinary form of the PHQ-9's url and version) and read it
				// beside the response took the PHQ-9's labels off it (QA
				// round 40, helper A). Every form found passes on.
				held := false
				if key, _ := lk.target(b.resources[k]); key == nil {
					held = b.l.resolveRef(ix, b.out, k, b.resources[k], lk).ok
				}
				if !held && url != "" && !asked[t.askKey()] && !seen[t.askKey()] {
					if seen == nil {
						seen = map[string]bool{}
					}
					seen[t.askKey()] = true
					out = append(out, t)
				}
				// And read as a reference too, below.
			}
			key, typLen := lk.target(b.resources[k])
			if key == nil {
				continue
			}
			if rel != nil {
				note(b.target(key, typLen, lk, k, "").askKey(), k, lk)
			}
			if v := lk.version(b.resources[k]); v != "" {
				if rel != nil {
					note(b.target(key, typLen, lk, k, v).askKey(), k, lk)
				}
				if t, ok := b.unresolvedVersion(ix, key, typLen, v, lk, k, asked, seen, now); ok {
					if seen == nil {
						seen = map[string]bool{}
					}
					seen[t.askKey()] = true
					out = append(out, t)
				}
			}
			if _, ok := ix.find(b.out, k, key, typLen); ok {
				continue
			}
			var t Target
			if lk.absolute(b.resources[k]) {
				t = b.target(key, typLen, lk, k, "")
				if asked[t.askKey()] || seen[t.askKey()] {
					continue
				}
			} else if asked[string(key)] || seen[string(key)] {
				continue
			}
			// A Binary's securityContext is read even when the cache knows
			// it: the Binary's patient is the target's (securityContexts),
			// which the cache does not hold.
			if b.l.cache != nil && !(lk.member == securityContextMember && r.Type == "Binary") &&
				!b.claimHeld(r, lk, key) && b.l.cache.knows(key, now) {
				continue
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			if t.Type == "" {
				t = b.target(key, typLen, lk, k, "")
			}
			seen[t.askKey()] = true
			out = append(out, t)
		}
	}
	parentsOnly = rel != nil
	for _, t := range out {
		if parentsOnly && via[t.askKey()] != viaParent {
			parentsOnly = false
		}
	}
	return out, parentsOnly
}

// target is the Target of link lk of resource k, naming key (its type
// typLen long), at version v ("" the current one).
func (b *Batch) target(key []byte, typLen int, lk link, k int, v string) Target {
	ref := lk.decoded
	if ref == "" {
		ref = string(b.resources[k][lk.start:lk.end])
	}
	ref = strings.Trim(ref, " \t\r\n\f\v") // an absolute URL with white space around it is one still
	return Target{Type: string(key[:typLen]), ID: string(key[typLen+1:]), Ref: ref, Version: v}
}

// unresolvedVersion returns the Target of version v of the resource key
// (its type typLen long) that link lk of resource k names, when neither
// the batch (that resource at that version, or the version already read),
// nor the cache (its entry of that version, or the version known to pass
// nothing on) knows it, and it was not asked before.
func (b *Batch) unresolvedVersion(ix *batchIndex, key []byte, typLen int, v string, lk link, k int, asked, seen map[string]bool, now time.Time) (Target, bool) {
	typ, id := string(key[:typLen]), string(key[typLen+1:])
	vk := versionKey(typ, id, v)
	if t, ok := ix.find(b.out, k, key, typLen); ok && b.out[t].VersionID == v {
		return Target{}, false
	}
	t := b.target(key, typLen, lk, k, v)
	if _, ok := b.versions[vk]; ok || asked[t.askKey()] || seen[t.askKey()] {
		return Target{}, false
	}
	if c := b.l.cache; c != nil {
		if e, ok := c.get(key); ok && e.version == v && e.rules == c.rulesGen() {
			return Target{}, false
		}
		if c.knows([]byte(vk), now) {
			return Target{}, false
		}
	}
	return t, true
}

// claimHeld reports whether link lk of r is one of itemLinks (a
// ClaimResponse's request, an ExplanationOfBenefit's claim or
// claimResponse) naming a resource whose labels the cache holds: it is
// read again, since r inherits from it item by item (inheritClaim), which
// the labels the cache holds for it as a whole cannot tell.
func (b *Batch) claimHeld(r *Result, lk link, key []byte) bool {
	if !itemLinked(r.Type, lk) {
		return false
	}
	e, ok := b.l.cache.get(key)
	return ok && len(e.labels) > 0
}
