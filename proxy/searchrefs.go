package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
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
// Not checked, for cost: directory resources (Patient, Practitioner,
// Organization ...), which the proxy never withholds as records of a
// program, and parameters of the search itself (_id, _include, _sort ...).

// maxSearchRefs bounds the distinct targets one search may name.
const maxSearchRefs = 20

// searchRefsUnchecked are the target types not read before a search.
var searchRefsUnchecked = map[string]bool{
	"Patient": true, "Practitioner": true, "PractitionerRole": true, "Organization": true, "Location": true,
	"Device": true, "Endpoint": true, "HealthcareService": true, "Medication": true, "Substance": true,
}

// noneID is an id no resource has: a withheld or missing target is
// replaced by it. Random per process, so that it cannot be created first.
var noneID = func() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "ds4p-none-" + hex.EncodeToString(b)
}()

// searchRef returns the Type/id a value of parameter name names, when it is
// a local resource the proxy checks.
func (s *Server) searchRef(name, v, publicBase string) (typ, id string, ok bool) {
	if strings.HasPrefix(name, "_") {
		return "", "", false
	}
	_, modifier, _ := strings.Cut(name, ":")
	v = strings.TrimSpace(v)
	if isType(modifier) && !strings.Contains(v, "/") {
		typ, id = modifier, v
	} else {
		rest := v
		if strings.Contains(v, ":") {
			var local bool
			if rest, local = s.localPath(v, publicBase); !local {
				return "", "", false
			}
		}
		segs := refSegments(rest)
		if len(segs) != 2 && !(len(segs) == 4 && segs[2] == "_history") && !(len(segs) == 3 && segs[2] == "_history") {
			return "", "", false
		}
		typ, id = segs[0], segs[1]
	}
	if !isType(typ) || !validSegment(typ) || !validSegment(id) || searchRefsUnchecked[typ] {
		return "", "", false
	}
	return typ, id, true
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

// searchRefs lists the distinct targets q's values name.
func (s *Server) searchRefs(q url.Values, publicBase string) []string {
	var out []string
	seen := map[string]bool{}
	for name, vs := range q {
		for _, v := range vs {
			for _, one := range strings.Split(v, ",") {
				if typ, id, ok := s.searchRef(name, one, publicBase); ok && !seen[typ+"/"+id] {
					seen[typ+"/"+id] = true
					out = append(out, typ+"/"+id)
				}
			}
		}
	}
	return out
}

// rewriteSearchRefs reads and decides every target q names and replaces
// each the caller may not read (or that is missing) by noneID, in place.
// It reports whether it replaced any.
func (s *Server) rewriteSearchRefs(ctx context.Context, ex *exchange, q url.Values) (bool, *Failure) {
	targets := s.searchRefs(q, ex.publicBase)
	if len(targets) == 0 {
		return false, nil
	}
	if len(targets) > maxSearchRefs {
		return false, fail(http.StatusBadRequest, "not-supported", "too many references to check in one search", nil)
	}
	gone, f := s.unreadableTargets(ctx, ex, targets)
	if f != nil || len(gone) == 0 {
		return false, f
	}
	for name, vs := range q {
		for i, v := range vs {
			parts := strings.Split(v, ",")
			for j, one := range parts {
				if typ, id, ok := s.searchRef(name, one, ex.publicBase); ok && gone[typ+"/"+id] {
					parts[j] = typ + "/" + noneID
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
