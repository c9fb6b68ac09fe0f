package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ds4p/ds4p/internal/fhirsearch"
)

// Searches by a reference (README "Searches the proxy refuses or
// rewrites"). A search by a reference to a resource the caller may not read
// answers with the resources that refer to it. Where the reference passes
// no labels on (an Observation's encounter, a DocumentReference's related
// resource) or only an element holds it (a List's entry, cut from the
// List), those resources are disclosed, and they show that the withheld
// resource exists (QA: List?item=Condition/c-sud answered a List whose
// visible entries did not include it, while Condition/nope matched
// nothing). So each local resource a search parameter names is read and
// decided for the caller first, as a read would be, and one the caller may
// not read, or a missing one, is replaced by an id no resource has: the
// server then answers as it answers for a missing target. The query the
// server sees is the caller's only through opaque page tokens.
//
// A bare id (List?item=c1, Encounter?diagnosis=c1) names no type: a server
// may match it against every type the parameter may refer to (FHIR R4's
// search parameter definitions, internal/fhirsearch); Medplum does when
// there is one such type. So a bare id is read as each such type T/id
// would be, and counts once for each toward maxSearchRefs. When one is
// withheld or missing, the value becomes the explicit list of the others
// (Patient/c1,Condition/c1), or the id no resource has when none is left:
// the query the server sees depends only on what the caller may read, so
// withheld and missing answer alike. A bare id in a parameter that may
// refer to more types than the bound (any type: List.item,
// Observation.focus, DocumentReference.related) is refused whatever it
// names, with the advice to write the type.
//
// Not checked, for cost: directory resources (Patient, Practitioner,
// Organization ...), which the proxy never withholds as records of a
// program, and parameters of the search itself (_id, _include, _sort ...).
// For a bare id, Group is not read either: subject=<id> (Condition,
// Observation ...) may name a Group, and a read of Group/<id> before every
// such search would double the cost of the commonest search by patient;
// a Group is read when written, subject=Group/<id>. Not checked yet: a
// bare id in a parameter the table does not know for the type searched (a
// custom SearchParameter the server defines, a vendor one such as
// Medplum's DiagnosticReport.study); a server rejects or ignores a name it
// does not know.

// maxSearchRefs bounds the distinct targets one search may name.
const maxSearchRefs = 20

// searchRefsUnchecked are the target types not read before a search.
var searchRefsUnchecked = map[string]bool{
	"Patient": true, "Practitioner": true, "PractitionerRole": true, "Organization": true, "Location": true,
	"Device": true, "Endpoint": true, "HealthcareService": true, "Medication": true, "Substance": true,
}

// nonReferenceModifiers make a reference parameter's value something other
// than a reference (:missing=true, :identifier=sys|v, :text=...), or say
// that the parameter is not a reference one.
var nonReferenceModifiers = map[string]bool{
	"missing": true, "identifier": true, "text": true, "exact": true, "contains": true, "code-text": true,
	"text-advanced": true, "of-type": true, "oftype": true, "in": true, "not-in": true, "iterate": true,
}

// noneID is an id no resource has: a withheld or missing target is
// replaced by it. Random per process, so that it cannot be created first.
var noneID = func() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "ds4p-none-" + hex.EncodeToString(b)
}()

// searchValue is one alternative of a search value that names a local
// resource the proxy checks: Type/id (typed), or a bare id that may name
// a resource of each of checked and kept.
type searchValue struct {
	typ, id string
	bare    bool
	checked []string // bare: the types read and decided for the caller
	kept    []string // bare: the types not read (searchRefsUnchecked, Group)
}

// targets are the Type/id the proxy reads for v.
func (v searchValue) targets() []string {
	if !v.bare {
		return []string{v.typ + "/" + v.id}
	}
	out := make([]string, len(v.checked))
	for i, t := range v.checked {
		out[i] = t + "/" + v.id
	}
	return out
}

// searchRef returns the Type/id a value of parameter name names, when it is
// a local resource the proxy checks and the value writes its type.
func (s *Server) searchRef(name, v, publicBase string) (typ, id string, ok bool) {
	ref, ok, _ := s.searchValueOf("", name, v, publicBase, false)
	if !ok || ref.bare {
		return "", "", false
	}
	return ref.typ, ref.id, true
}

// searchValueOf returns what a value of parameter name of a search of
// resType ("" at system level) names, when it is a local resource the proxy
// checks. It refuses a value it cannot check.
func (s *Server) searchValueOf(resType, name, v, publicBase string, fromPage bool) (searchValue, bool, *Failure) {
	if strings.HasPrefix(name, "_") {
		return searchValue{}, false, nil
	}
	code, modifier, _ := strings.Cut(name, ":")
	v = strings.TrimSpace(v)
	// subject:Patient=<id> names a Patient; subject:Patient.name=<v>
	// (a chain, enforcement.allow_chains) names a value of the chained
	// parameter, which the checks below treat as a chain's.
	if isType(modifier) && !strings.Contains(modifier, ".") && !strings.Contains(v, "/") {
		return typedRef(modifier, v)
	}
	rest := v
	if strings.Contains(v, ":") {
		var local bool
		if rest, local = s.localPath(v, publicBase); !local {
			return searchValue{}, false, nil
		}
	}
	segs := refSegments(rest)
	if len(segs) == 2 || len(segs) == 4 && segs[2] == "_history" || len(segs) == 3 && segs[2] == "_history" {
		return typedRef(segs[0], segs[1])
	}
	if len(segs) == 3 && segs[1] == "_history" {
		segs = segs[:1] // id/_history/v: a bare id with a version
	}
	if len(segs) != 1 || !validSegment(segs[0]) || nonReferenceModifiers[modifier] || strings.Contains(name, ".") {
		// Not an id; or a chain (enforcement.allow_chains), whose value
		// is for a parameter of another type.
		return searchValue{}, false, nil
	}
	return s.bareRef(resType, code, name, segs[0], fromPage)
}

func typedRef(typ, id string) (searchValue, bool, *Failure) {
	typ = canonicalType(typ)
	if !isType(typ) || !validSegment(typ) || !validSegment(id) || searchRefsUnchecked[typ] {
		return searchValue{}, false, nil
	}
	return searchValue{typ: typ, id: id}, true, nil
}

// bareRef reads a bare id in parameter code (written name) as the
// parameter's definition says: FHIR R4's, else the site's
// (enforcement.search_params). A parameter neither defines is refused: the
// server may read the id as a reference to a resource the caller may not
// read, and the proxy cannot tell which. In a page link (fromPage) the
// upstream wrote it (its own paging state, such as Azure's ct), after the
// caller's query had passed: it goes unchecked.
func (s *Server) bareRef(resType, code, name, id string, fromPage bool) (searchValue, bool, *Failure) {
	p, known := fhirsearch.Lookup(resType, code)
	if resType == "" {
		p, known = fhirsearch.LookupAnyType(code)
	}
	if !known {
		p, known = s.siteSearchParam(resType, code)
	}
	if !known && fromPage {
		return searchValue{}, false, nil
	}
	if !known {
		where := "FHIR R4's parameters of " + resType
		if resType == "" {
			where = "FHIR R4's search parameters"
		}
		return searchValue{}, false, fail(http.StatusBadRequest, "not-supported", fmt.Sprintf("%s is not one of %s, so the proxy cannot tell whether the server reads %s=<id> as a reference to a resource it must check first: write a reference as Type/id, or have the proxy's operator declare the parameter (enforcement.search_params)", code, where, name), nil)
	}
	if !p.IsReference() {
		return searchValue{}, false, nil
	}
	v := searchValue{id: id, bare: true}
	for _, t := range p.TargetTypes() {
		if searchRefsUnchecked[t] || t == "Group" {
			v.kept = append(v.kept, t)
		} else {
			v.checked = append(v.checked, t)
		}
	}
	switch {
	case len(v.checked) == 0:
		return searchValue{}, false, nil
	case len(v.checked) > maxSearchRefs:
		example := "Condition"
		if !slices.Contains(p.TargetTypes(), example) {
			example = v.checked[0]
		}
		return searchValue{}, false, fail(http.StatusBadRequest, "not-supported", fmt.Sprintf("a plain id in %s may name a resource of %d types, too many to check: write its type, as %s=%s/<id>", name, len(p.TargetTypes()), name, example), nil)
	}
	return v, true, nil
}

// canonicalType is the FHIR R4 type a reference's type segment names in
// any case (condition, CONDITION: Condition), as a server that looks types
// up without regard to case reads it (HAPI FHIR's FhirContext does); typ
// itself when it names none. A value whose type was spelt otherwise went
// unchecked (a lower-case type is no type here) or was read as written
// (the upstream answered 404 for CONDITION/x, which was then read as
// missing) while such a server matched it against the withheld resource
// (QA round 30).
func canonicalType(typ string) string {
	if fhirsearch.KnownType(typ) {
		return typ
	}
	for _, t := range fhirsearch.ResourceTypes() {
		if strings.EqualFold(t, typ) {
			return t
		}
	}
	return typ
}

// refSegments splits a reference into its path segments as a server that
// resolves loosely spelled references would read it (labels reads them
// so too): without a fragment or query, percent-escapes decoded, empty
// segments (doubled or trailing slashes) dropped.
func refSegments(ref string) []string {
	if i := strings.IndexAny(ref, "#?"); i >= 0 {
		ref = ref[:i]
	}
	if strings.Contains(ref, "%") {
		if d, err := url.PathUnescape(ref); err == nil {
			ref = d
		}
	}
	var segs []string
	for _, p := range strings.Split(strings.TrimSpace(ref), "/") {
		if p != "" {
			segs = append(segs, p)
		}
	}
	return segs
}

// searchRefs returns the targets a search (of operation op, "" for a
// plain search) would read before it is sent (whatever the type searched:
// every type's parameters are considered), or the refusal it would get: a
// batch entry refuses such a search (writeguard.go), as it cannot be
// rewritten there.
func (s *Server) searchRefs(op string, q url.Values, publicBase string) ([]string, *Failure) {
	return s.searchTargets("", op, q, publicBase, false)
}

// operationParams are the parameters of an operation that is checked as a
// search which are not search parameters: $lastn's max (the number of
// results per code).
var operationParams = map[string][]string{"$lastn": {"max"}}

// searchTargets lists the distinct targets the values of q, a search of
// resType (by operation op, "" for a plain search), name, or refuses the
// search.
func (s *Server) searchTargets(resType, op string, q url.Values, publicBase string, fromPage bool) ([]string, *Failure) {
	var out []string
	seen := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if slices.Contains(operationParams[op], name) {
			continue
		}
		for _, v := range q[name] {
			for _, one := range strings.Split(v, ",") {
				ref, ok, f := s.searchValueOf(resType, name, one, publicBase, fromPage)
				if f != nil {
					return nil, f
				}
				if !ok {
					continue
				}
				for _, t := range ref.targets() {
					if !seen[t] {
						seen[t] = true
						out = append(out, t)
					}
				}
			}
		}
	}
	return out, nil
}

// rewriteSearchRefs reads and decides every target q names and replaces
// each the caller may not read (or that is missing) by noneID, in place;
// a bare id by the targets left (searchValue). It reports whether it
// replaced any.
func (s *Server) rewriteSearchRefs(ctx context.Context, ex *exchange, q url.Values) (bool, *Failure) {
	if f := s.guardEnrolmentDirectory(ctx, ex, q); f != nil { // enrolment.go
		return false, f
	}
	targets, f := s.searchTargets(ex.req.Type, ex.req.Operation, q, ex.publicBase, ex.fromPage)
	if f != nil || len(targets) == 0 {
		return false, f
	}
	if len(targets) > maxSearchRefs {
		return false, fail(http.StatusBadRequest, "not-supported", "too many references to check in one search (a plain id counts once for each type it may name)", nil)
	}
	gone, f := s.unreadableTargets(ctx, ex, targets)
	if f != nil || len(gone) == 0 {
		return false, f
	}
	for name, vs := range q {
		if slices.Contains(operationParams[ex.req.Operation], name) {
			continue
		}
		for i, v := range vs {
			parts := strings.Split(v, ",")
			for j, one := range parts {
				ref, ok, _ := s.searchValueOf(ex.req.Type, name, one, ex.publicBase, ex.fromPage)
				if !ok {
					continue
				}
				if ref.bare {
					parts[j] = ref.rewritten(gone)
					continue
				}
				if gone[ref.typ+"/"+ref.id] {
					parts[j] = ref.typ + "/" + noneID
					if _, modifier, _ := strings.Cut(name, ":"); isType(modifier) && !strings.Contains(one, "/") {
						parts[j] = noneID
					}
				}
			}
			vs[i] = strings.Join(parts, ",")
		}
	}
	return true, nil
}

// rewritten returns what a bare id is sent as: itself when no type it may
// name is gone (withheld or missing); else the Type/id of each type
// not gone, or noneID when none is left.
func (v searchValue) rewritten(gone map[string]bool) string {
	var left []string
	withheld := false
	for _, t := range v.checked {
		if gone[t+"/"+v.id] {
			withheld = true
		} else {
			left = append(left, t+"/"+v.id)
		}
	}
	if !withheld {
		return v.id
	}
	for _, t := range v.kept {
		left = append(left, t+"/"+v.id)
	}
	if len(left) == 0 {
		return noneID
	}
	slices.Sort(left)
	return strings.Join(left, ",")
}

// unreadableTargets returns the targets the caller may not read or that
// are missing (readTargets). Any other failure to read one fails the
// search.
func (s *Server) unreadableTargets(ctx context.Context, ex *exchange, targets []string) (map[string]bool, *Failure) {
	gone := map[string]bool{}
	for i, f := range s.readTargets(ctx, ex, targets) {
		switch {
		case f == nil:
		case errors.Is(f, errMissing):
			gone[targets[i]] = true
		default:
			return nil, f
		}
	}
	return gone, nil
}

// rewriteQueryRefs applies rewriteSearchRefs to r's query.
func (s *Server) rewriteQueryRefs(ctx context.Context, ex *exchange, r *http.Request) *Failure {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return fail(http.StatusBadRequest, "invalid", "the query string is not valid", nil)
	}
	rewritten, f := s.rewriteSearchRefs(ctx, ex, q)
	if f != nil {
		return f
	}
	if rewritten {
		r.URL.RawQuery = q.Encode()
	}
	return nil
}

// siteSearchParam returns the parameter code as the site declares it
// (enforcement.search_params) for resType, or for Resource (every type);
// at system level (resType ""), as any declaration of code reads it, a
// reference one first, targets merged.
func (s *Server) siteSearchParam(resType, code string) (fhirsearch.Param, bool) {
	var out fhirsearch.Param
	found := false
	for _, d := range s.opts.Requests.SearchParams {
		if d.Code != code || resType != "" && d.Resource != resType && d.Resource != "Resource" {
			continue
		}
		p := fhirsearch.Param{Type: d.Type, Targets: slices.Clone(d.Targets), Any: d.Type == "reference" && len(d.Targets) == 0}
		switch {
		case !found:
			out, found = p, true
		case !out.IsReference() && p.IsReference():
			out = p
		case out.IsReference() && p.IsReference():
			out.Any = out.Any || p.Any
			out.Targets = append(out.Targets, p.Targets...)
		}
	}
	if out.Any {
		out.Targets = nil
	}
	slices.Sort(out.Targets)
	out.Targets = slices.Compact(out.Targets)
	return out, found
}
