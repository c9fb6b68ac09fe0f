package proxy

import (
	"net/url"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// A Patient/$match gives a Patient, and the server scores its stored
// Patients on the elements given (FHIR R4 Patient-match; what
// guardMatchEnrolment already counts on). Its answer was judged as a
// query the proxy does not hold, every member counting, so every match of
// an enrolled Patient was withheld: POST Patient/$match {name: Doe}
// answered org-b an empty searchset where Patient?name=Doe answered p1,
// its enrolment cut, while a patient not enrolled is found by both: the
// difference told the enrolment (QA round 43, helper E; round 42's B-3).
// The given Patient now enters the cut-search rule as a search's query
// does: the members it gives are the members read (matchGivesAny), and an
// enrolled Patient's match is kept when each member given that reads a cut
// one is explained by what the caller sees (matchExplained). Anything the
// proxy cannot tell (a $match of another type or of an instance, a body it
// did not keep, more or fewer than one Patient, a parameter but resource,
// count and onlyCertainMatches, in the body or the query, a page the
// upstream names by a handle) counts every member, as before.

// matchParams are the parameters of Patient/$match: the Patient, and two
// that select on its score alone.
var matchParams = map[string]bool{"resource": true, "count": true, "onlyCertainMatches": true}

// matchCutQuery is what a $match reads (above).
func (r *run) matchCutQuery() cutQuery {
	all := cutQuery{all: true}
	req, body := r.ex.req, r.ex.matchBody
	if r.ex.origin != "" || req.Type != "Patient" || req.ID != "" || len(body) == 0 ||
		fjson.Validate(body, r.s.opts.MaxJSONDepth) != nil {
		return all
	}
	_, raw, _ := strings.Cut(r.ex.query, "?")
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return all
	}
	for k := range vals {
		if code, _, _ := strings.Cut(k, ":"); !matchParams[code] && !cutQuerySkipped[code] {
			return all
		}
	}
	if !matchParamsOnly(body) {
		return all
	}
	patients := matchPatients(body) // searchguard.go
	if len(patients) != 1 {
		return all
	}
	return cutQuery{match: patients[0]}
}

// matchParamsOnly reports whether a $match body (valid JSON) is a Patient,
// or a Parameters whose every parameter is one of matchParams.
func matchParamsOnly(body []byte) bool {
	obj := fjson.SkipSpace(body, 0)
	rs, re, ok, err := fjson.Lookup(body, obj, "resourceType")
	if err != nil || !ok || body[rs] != '"' {
		return false
	}
	switch rt, _ := fjson.StringValue(body, rs, re); rt {
	case "Patient":
		return true
	case "Parameters":
	default:
		return false
	}
	only := true
	err = fjson.ObjectEach(body, obj, func(key []byte, vs, ve int) error {
		switch k := keyName(key); {
		case k == "resourceType" || k == "id" || k == "meta":
		case k == "parameter" && body[vs] == '[':
			return fjson.ArrayEach(body, vs, func(s, e int) error {
				only = only && matchParam(body, s)
				return nil
			})
		case k == "parameter" && body[vs] == '{':
			only = only && matchParam(body, vs)
		default:
			only = false
		}
		return nil
	})
	return err == nil && only
}

// matchParam reports whether the parameter at body[s] is one of
// matchParams.
func matchParam(body []byte, s int) bool {
	if body[s] != '{' {
		return false
	}
	name, ok := stringMember(body, s, "name")
	return ok && matchParams[name]
}

// matchGivesAny reports whether the given Patient has a member of keys
// (or cannot be read).
func matchGivesAny(given []byte, keys []string) bool {
	found := false
	err := fjson.ObjectEach(given, 0, func(key []byte, _, _ int) error {
		k := keyName(key)
		for _, c := range keys {
			found = found || c == k
		}
		return nil
	})
	return found || err != nil
}

// matchExplained reports whether a $match's match it (a Patient whose
// enrolment was cut silently) is explained by what the caller sees of it:
// for each member the given Patient has that holds a cut, the cuts are
// element extensions inside it (which no matcher compares), or it is an
// identifier, generalPractitioner or managingOrganization every element of
// which a visible element satisfies exactly (an identifier's system and
// value; a reference's reference and identifier as given). The server
// then scored the Patient on what the caller sees, and a patient not
// enrolled would be found alike. Anything else is withheld, as it was.
func (r *run) matchExplained(it *item, q *cutQuery) bool {
	if it.res.Type != "Patient" || !it.silentCut() || len(it.masked) > 0 {
		return false
	}
	cuts, ok := r.cutsByMember(it)
	if !ok {
		return false
	}
	given := map[string][][2]int{}
	if err := fjson.ObjectEach(q.match, 0, func(key []byte, vs, ve int) error {
		k := keyName(key)
		given[k] = append(given[k], [2]int{vs, ve})
		return nil
	}); err != nil {
		return false
	}
	for k, es := range cuts {
		vs, ok := given[k]
		switch {
		case !ok || elementExtensionsOnly(es):
		case len(vs) != 1 || !r.matchMemberExplained(it, k, q.match, vs[0]):
			return false
		}
	}
	return true
}

// elementExtensionsOnly reports whether every cut of es is an element
// extension inside a member (a name's, an address's), not the member.
func elementExtensionsOnly(es []labels.ElementLabel) bool {
	for _, e := range es {
		i := strings.LastIndexByte(e.Path, '.')
		if last := e.Path[i+1:]; i < 0 || !strings.HasPrefix(last, "extension[") && !strings.HasPrefix(last, "modifierExtension[") {
			return false
		}
	}
	return true
}

// matchMemberExplained reports whether every element of the member k the
// given Patient has (given[v[0]:v[1]], an array or one object) is
// satisfied exactly by a visible element of the stored Patient's k.
func (r *run) matchMemberExplained(it *item, k string, given []byte, v [2]int) bool {
	if k != "identifier" && k != "generalPractitioner" && k != "managingOrganization" {
		return false
	}
	visible, ok := r.visibleMembers(it, k)
	if !ok {
		return false
	}
	one := func(s int) bool {
		if given[s] != '{' {
			return false
		}
		for _, el := range visible {
			if k == "identifier" && givenIdentifierMatches(r.body, el, given, s) ||
				k != "identifier" && givenReferenceMatches(r.body, el, given, s) {
				return true
			}
		}
		return false
	}
	if given[v[0]] != '[' {
		return one(v[0])
	}
	all, n := true, 0
	err := fjson.ArrayEach(given, v[0], func(s, _ int) error {
		all, n = all && one(s), n+1
		return nil
	})
	return err == nil && all && n > 0
}

// givenIdentifier is the Identifier at given[s] as a token
// (system|value, or value alone without a system); false without a value
// or with a | in either.
func givenIdentifier(given []byte, s int) (string, bool) {
	value, ok := stringMember(given, s, "value")
	if !ok || value == "" || strings.Contains(value, "|") {
		return "", false
	}
	system, hasSystem := stringMember(given, s, "system")
	if !hasSystem {
		return value, true
	}
	if strings.Contains(system, "|") {
		return "", false
	}
	return system + "|" + value, true
}

// givenIdentifierMatches reports whether the visible Identifier at el (in
// b) has the given Identifier's system and value.
func givenIdentifierMatches(b []byte, el [2]int, given []byte, s int) bool {
	tok, ok := givenIdentifier(given, s)
	return ok && identifierMatches(b, el, tok)
}

// givenReferenceMatches reports whether the visible Reference at el (in b)
// has what the given Reference at given[s] names: its reference exactly,
// and its identifier's system and value; one naming neither matches none.
func givenReferenceMatches(b []byte, el [2]int, given []byte, s int) bool {
	ref, hasRef := stringMember(given, s, "reference")
	is, _, hasIdent, err := fjson.Lookup(given, s, "identifier")
	if err != nil || !hasRef && !hasIdent {
		return false
	}
	if hasRef && !referenceMatches(b, el, ref, nil) {
		return false
	}
	if !hasIdent {
		return true
	}
	if given[is] != '{' {
		return false
	}
	tok, ok := givenIdentifier(given, is)
	return ok && referenceIdentifierMatches(b, el, tok)
}
