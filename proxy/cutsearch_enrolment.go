package proxy

import (
	"strings"

	"github.com/ds4p/ds4p/internal/fhirsearch"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// A Patient's Part 2 enrolment (a managingOrganization, generalPractitioner
// or identifier naming a program, enrolment.go) is cut silently, and the
// Patient is never withheld for it: either would tell the caller that the
// person is the program's patient. The cut-search rule (redact.go
// withholdCutMatches) withholds a match the search read through a cut
// member, so that Patient?identifier=<the program's MRN system>| does not
// list the program's patients. Applied coarsely to a Patient it told the
// cut: Patient?identifier=urn:mrn|123 answered nothing for an enrolled
// patient whose MRN 123 was shown by Patient?name=Doe and by the read,
// where a patient not enrolled is found (QA round 35, area B); so did
// general-practitioner=Practitioner/gp beside a cut program clinician.
//
// enrolmentExplained reports whether such a Patient would match q without
// its cut elements: every parameter of q that reads a cut member reads
// none of what was cut (the cuts in it are element extensions, as on a
// name or an address, and the parameter has no :missing; _sort likewise),
// or is a plain identifier, general-practitioner or organization parameter
// (no modifier) of which, for each time it is given, one alternative a
// visible element satisfies exactly (an identifier's system and value, a
// reference's Type/id, or its id for a bare id). Then the server matched
// the Patient on what the caller sees, and the match is kept. Anything
// else (another parameter or a modifier reading a cut member, _sort by
// one, a compartment, a token with escapes, a value no visible element
// satisfies) is not explained: the match is withheld, as it was, which
// answers as for a patient without the element.
func (r *run) enrolmentExplained(it *item, q *cutQuery, keys []string) bool {
	if q.match != nil {
		return r.matchExplained(it, q) // cutsearch_match.go
	}
	// The Patient of its own $everything is answered as the
	// compartment's owner, not found by a reference to it; start and end
	// select the other resources by their clinical dates (FHIR R4
	// Patient-everything), and _since reads meta.lastUpdated, not a cut
	// meta.source (below).
	owner := q.everything != "" && q.everything == "Patient/"+it.res.ID
	if it.res.Type != "Patient" || !it.silentCut() || len(it.masked) > 0 || q.all || len(q.members) > 0 && !owner {
		return false
	}
	if q.compartment != "" && !owner && !r.compartmentExplained(it, q) {
		return false
	}
	readsCut := func(p fhirsearch.Param) bool {
		for _, k := range keys {
			if p.ReadsKey(k) {
				return true
			}
		}
		return false
	}
	cuts, ok := r.cutsByMember(it)
	if !ok {
		return false
	}
	// extensionCutsOnly: every cut in a member p reads is an element
	// extension inside it (a name's, an address's, a _birthDate's), which
	// no FHIR R4 parameter of Patient reads: p matched on what is left.
	extensionCutsOnly := func(p fhirsearch.Param) bool {
		for k, es := range cuts {
			if p.ReadsKey(k) && !elementExtensionsOnly(es) { // cutsearch_match.go
				return false
			}
		}
		return true
	}
	// metaCutIsSource: a parameter that reads meta but not its source
	// (_lastUpdated, _tag, _profile) reads none of what was cut from meta
	// when only a program's meta.source was: Patient?_sort=-_lastUpdated
	// left out the patients a program recorded (QA round 35, area F).
	// _source reads it: withheld (and refused, searchguard.go). _security
	// is left out: the server matches the stored labels, which the proxy
	// does not show as stored.
	onlySourceCut := func() bool {
		for _, e := range cuts["meta"] {
			if e.Path != "meta.source" {
				return false
			}
		}
		return true
	}
	metaCutIsSource := func(code string) bool {
		return metaNotSource[code] && onlySourceCut()
	}
	for name, vs := range q.vals {
		code, mod, hasMod := strings.Cut(name, ":")
		switch {
		case cutQueryHandles[code]:
			return false
		case cutQuerySkipped[code]:
			continue
		case owner && !hasMod && (code == "start" || code == "end"):
			continue
		case owner && !hasMod && code == "_since":
			if !onlySourceCut() {
				return false
			}
			continue
		case code == "_sort":
			for _, v := range vs {
				for _, c := range strings.Split(v, ",") {
					if c = strings.TrimPrefix(strings.TrimSpace(c), "-"); c == "" {
						continue
					}
					if p, ok := fhirsearch.Lookup("Patient", c); !ok || readsCut(p) && !extensionCutsOnly(p) && !metaCutIsSource(c) {
						return false
					}
				}
			}
			continue
		}
		p, ok := fhirsearch.Lookup("Patient", code)
		if !ok {
			return false
		}
		if !readsCut(p) || extensionCutsOnly(p) && mod != "missing" || metaCutIsSource(code) {
			continue
		}
		ofType := code == "identifier" && mod == "of-type"
		// A type modifier (general-practitioner:Practitioner=gp) names
		// the reference Type/id.
		typed := code != "identifier" && hasMod && isType(mod) && validSegment(mod)
		// :identifier (general-practitioner:identifier=<an NPI>) tests
		// the identifier written in the reference (FHIR R4 search
		// 3.1.1.4.9): judged on the visible references' identifiers, as
		// an untyped search is on their references (QA round 35, area F).
		refIdent := code != "identifier" && mod == "identifier"
		if hasMod && !ofType && !typed && !refIdent {
			return false
		}
		var member string
		switch code {
		case "identifier":
			member = "identifier"
		case "general-practitioner":
			member = "generalPractitioner"
		case "organization":
			member = "managingOrganization"
		default:
			return false
		}
		visible, ok := r.visibleMembers(it, member)
		if !ok {
			return false
		}
		for _, v := range vs {
			if !anyAlternative(v, func(alt string) bool {
				for _, el := range visible {
					if ofType && identifierOfTypeMatches(r.body, el, alt) ||
						member == "identifier" && !ofType && identifierMatches(r.body, el, alt) ||
						refIdent && referenceIdentifierMatches(r.body, el, alt) ||
						member != "identifier" && !typed && !refIdent && referenceMatches(r.body, el, alt, p.Targets) ||
						typed && !strings.ContainsAny(alt, "/:") && referenceMatches(r.body, el, mod+"/"+alt, nil) {
						return true
					}
				}
				return false
			}) {
				return false
			}
		}
	}
	return true
}

// compartmentExplained reports whether a compartment search's match it (a
// Patient of Practitioner/gp/Patient) is in the compartment by a visible
// element: one of the members that put a Patient in it (general
// practitioner, managing organisation, link) names the compartment's
// resource exactly. Such a match would be found without the cut, as
// Patient?general-practitioner=Practitioner/gp finds it; withheld, it told
// the enrolment that search does not (QA round 35, area F).
func (r *run) compartmentExplained(it *item, q *cutQuery) bool {
	if q.compartmentID == "" || !isType(q.compartment) {
		return false
	}
	ms, any := fhirsearch.ReferenceMembers("Patient", q.compartment)
	if any {
		return false
	}
	ref := q.compartment + "/" + q.compartmentID
	for _, m := range ms {
		visible, ok := r.visibleMembers(it, m)
		if !ok {
			return false
		}
		for _, el := range visible {
			if referenceMatches(r.body, el, ref, nil) {
				return true
			}
		}
	}
	return false
}

// metaNotSource are the parameters every resource has that read meta but
// not meta.source, nor the labels (metaCutIsSource).
var metaNotSource = map[string]bool{"_lastUpdated": true, "_tag": true, "_profile": true}

// cutsByMember groups the elements cut from it by the top-level member
// they lie in; false when the resource cannot be read.
func (r *run) cutsByMember(it *item) (map[string][]labels.ElementLabel, bool) {
	out := map[string][]labels.ElementLabel{}
	err := fjson.ObjectEach(r.body, it.start, func(key []byte, vs, ve int) error {
		for _, e := range it.redacted {
			if s := it.start + e.Start; s >= vs && s < ve {
				out[keyName(key)] = append(out[keyName(key)], e)
			}
		}
		return nil
	})
	return out, err == nil
}

// anyAlternative reports whether one of the comma-separated alternatives of
// a search value satisfies match; a value with an escape (\, \| \$) is
// not read (false).
func anyAlternative(v string, match func(string) bool) bool {
	if strings.Contains(v, `\`) {
		return false
	}
	for _, alt := range strings.Split(v, ",") {
		if match(strings.TrimSpace(alt)) {
			return true
		}
	}
	return false
}

// visibleMembers returns the spans (absolute) of the objects in the
// Patient's member (an array of them, or one) that no cut touches; false
// when the member is written twice or cannot be read.
func (r *run) visibleMembers(it *item, member string) ([][2]int, bool) {
	var out [][2]int
	seen := 0
	err := fjson.ObjectEach(r.body, it.start, func(key []byte, vs, ve int) error {
		if keyName(key) != member {
			return nil
		}
		seen++
		one := func(s, e int) error {
			if r.body[s] == '{' && !it.cutOverlaps(s, e) {
				out = append(out, [2]int{s, e})
			}
			return nil
		}
		if r.body[vs] == '[' {
			return fjson.ArrayEach(r.body, vs, one)
		}
		return one(vs, ve)
	})
	return out, err == nil && seen <= 1
}

// cutOverlaps reports whether an element cut or masked from it overlaps
// r.body[s:e] (absolute).
func (it *item) cutOverlaps(s, e int) bool {
	s, e = s-it.start, e-it.start
	for _, es := range [2][]labels.ElementLabel{it.redacted, it.masked} {
		for _, x := range es {
			if x.Start < e && x.End > s {
				return true
			}
		}
	}
	return false
}

// stringMember is a string member of the object at obj ("" when absent or
// not a string).
func stringMember(b []byte, obj int, key string) (string, bool) {
	vs, ve, ok, err := fjson.Lookup(b, obj, key)
	if err != nil || !ok || b[vs] != '"' {
		return "", false
	}
	return fjson.StringValue(b, vs, ve)
}

// identifierMatches reports whether the Identifier at el satisfies the
// token alt exactly: code (any system), system|code, |code (no system),
// system| (any value).
func identifierMatches(b []byte, el [2]int, alt string) bool {
	system, hasSystem := stringMember(b, el[0], "system")
	value, hasValue := stringMember(b, el[0], "value")
	sys, code, piped := strings.Cut(alt, "|")
	switch {
	case !piped:
		return alt != "" && hasValue && value == alt
	case sys == "" && code == "":
		return false
	case sys == "":
		return !hasSystem && hasValue && value == code
	case code == "":
		return hasSystem && system == sys
	default:
		return hasSystem && system == sys && hasValue && value == code
	}
}

// referenceMatches reports whether the Reference at el satisfies the
// reference value alt exactly: its reference written as alt, or, for a
// bare id, as Type/id with Type one of targets.
func referenceMatches(b []byte, el [2]int, alt string, targets []string) bool {
	ref, ok := stringMember(b, el[0], "reference")
	if !ok || alt == "" {
		return false
	}
	if ref == alt {
		return true
	}
	if strings.ContainsAny(alt, "/:") {
		return false
	}
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || id != alt {
		return false
	}
	for _, t := range targets {
		if t == typ {
			return true
		}
	}
	return false
}

// referenceIdentifierMatches reports whether the Reference at el carries
// an identifier that satisfies the token alt exactly (identifierMatches).
func referenceIdentifierMatches(b []byte, el [2]int, alt string) bool {
	is, ie, ok, err := fjson.Lookup(b, el[0], "identifier")
	if err != nil || !ok || b[is] != '{' {
		return false
	}
	return identifierMatches(b, [2]int{is, ie}, alt)
}

// identifierOfTypeMatches reports whether the Identifier at el satisfies
// an identifier:of-type value alt (system|code|value) exactly: a coding of
// its type with that system and code, and that value.
func identifierOfTypeMatches(b []byte, el [2]int, alt string) bool {
	parts := strings.Split(alt, "|")
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return false
	}
	if value, ok := stringMember(b, el[0], "value"); !ok || value != parts[2] {
		return false
	}
	ts, _, ok, err := fjson.Lookup(b, el[0], "type")
	if err != nil || !ok || b[ts] != '{' {
		return false
	}
	cs, _, ok, err := fjson.Lookup(b, ts, "coding")
	if err != nil || !ok || b[cs] != '[' {
		return false
	}
	found := false
	_ = fjson.ArrayEach(b, cs, func(s, _ int) error {
		if b[s] != '{' {
			return nil
		}
		system, _ := stringMember(b, s, "system")
		code, _ := stringMember(b, s, "code")
		found = found || system == parts[0] && code == parts[1]
		return nil
	})
	return found
}
