package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"

	"github.com/ds4p/ds4p/internal/fjson"
)

// References in write bodies (README "Writes through the proxy").
//
// A FHIR server resolves the references of what it is asked to store: it
// refuses a reference to a resource it does not know (referential
// integrity), and resolves a conditional reference ("Condition?code=...")
// by searching, answering 404, 412 or 201 by how many resources match. A
// write through the proxy would so tell a withheld resource (stored, the
// write accepted) from a missing one (refused). So, before a create,
// update, patch or batch/transaction is forwarded:
//   - a conditional reference (any '?') is refused, as conditional writes
//     are: the proxy cannot check what its criteria match;
//   - each distinct local target (Type/id, Type/id/_history/v, or an
//     absolute reference under the upstream's or the proxy's base) is read
//     and decided for the caller as guardInstance decides a resource; one
//     the caller may not read and one that does not exist are both refused
//     with the same 400, naming the first such reference in the body, and
//     nothing reaches the upstream;
//   - contained ("#x") and "urn:" (urn:uuid, urn:oid: entries of the same
//     transaction) references are not read; nor are absolute references to
//     other servers, which the upstream does not resolve;
//   - a relative reference that is not of the form Type/id is refused: the
//     proxy cannot tell what the upstream would make of it.
//
// At most maxWriteRefs distinct targets are read per request (more: 400),
// refWorkers at a time.

const (
	maxWriteRefs = 100
	refWorkers   = 8
)

// refSite is the first place a body names a target.
type refSite struct {
	path   string // "Observation.focus"
	ref    string // the reference as written
	target string // "Condition/c1"
}

// refScan collects the references of one request's bodies, in document
// order, one site per distinct target.
type refScan struct {
	s          *Server
	publicBase string
	sites      []refSite
	seen       map[string]bool
}

func (s *Server) newRefScan(ex *exchange) *refScan {
	return &refScan{s: s, publicBase: ex.publicBase, seen: map[string]bool{}}
}

// resource collects the references of a resource body (a create or update
// body, a batch entry's resource).
func (rs *refScan) resource(body []byte) *Failure {
	root := "Resource"
	if vs, ve, ok, _ := fjson.Lookup(body, 0, "resourceType"); ok {
		if t, ok := fjson.StringValue(body, vs, ve); ok && isType(t) {
			root = t
		}
	}
	return rs.walkJSON(body, root)
}

// walkJSON walks any JSON document and collects the string value of every
// "reference" member, whatever it is nested in (extensions, contained
// resources, Parameters). Keys are compared decoded, as the upstream reads
// them.
func (rs *refScan) walkJSON(body []byte, root string) *Failure {
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	bad := fail(http.StatusBadRequest, "invalid", "the request body is not valid JSON", nil)
	var walk func(path string, depth int) *Failure
	walk = func(path string, depth int) *Failure {
		if depth > 512 {
			return bad
		}
		tok, err := dec.Token()
		if err != nil {
			return bad
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch d {
		case '[':
			for dec.More() {
				if f := walk(path, depth+1); f != nil {
					return f
				}
			}
		case '{':
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return bad
				}
				key, _ := kt.(string)
				if key == "reference" {
					var raw json.RawMessage
					if err := dec.Decode(&raw); err != nil {
						return bad
					}
					var ref string
					if json.Unmarshal(raw, &ref) == nil {
						if f := rs.add(path, ref); f != nil {
							return f
						}
						continue
					}
					// Not a string: walk what it holds.
					if f := rs.walkJSON(raw, path+".reference"); f != nil {
						return f
					}
					continue
				}
				if f := walk(path+"."+key, depth+1); f != nil {
					return f
				}
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return bad
		}
		return nil
	}
	if f := walk(root, 0); f != nil {
		return f
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad
	}
	return nil
}

// add classifies one reference found at path. A reference to a version
// (Type/id/_history/v) is checked by the resource's current version and by
// that version (QA round 35: the labeller labels what refers to a version
// by that version, so a create naming one the caller may not read was
// withheld from it, 201 without a body, where an ordinary one answered
// with the resource: whether an older version is sensitive).
func (rs *refScan) add(path, ref string) *Failure {
	target, f := rs.target(path, ref)
	if f != nil || target == "" {
		return f
	}
	targets := []string{target}
	if base, _, versioned := strings.Cut(target, "/_history/"); versioned {
		targets = []string{base, target}
	}
	for _, t := range targets {
		if rs.seen[t] {
			continue
		}
		rs.seen[t] = true
		rs.sites = append(rs.sites, refSite{path: path, ref: ref, target: t})
		if len(rs.sites) > maxWriteRefs {
			return fail(http.StatusBadRequest, "too-costly", "too many references to check: a request may refer to at most 100 distinct resources", nil)
		}
	}
	return nil
}

// target is the local resource ("Type/id", "Type/id/_history/v" for a
// version) ref names, "" for one that is
// not read (contained, urn:, another server's), or the refusal of a
// conditional or unreadable reference.
func (rs *refScan) target(path, ref string) (string, *Failure) {
	ref = strings.TrimSpace(ref)
	switch {
	case ref == "", strings.HasPrefix(ref, "#"), strings.HasPrefix(ref, "urn:"):
		return "", nil
	case strings.Contains(ref, "?"):
		return "", notSupported(path + " is a conditional reference (a search): conditional references are not supported through the proxy, which cannot check the resources their criteria match")
	}
	rest := ref
	if strings.Contains(ref, ":") {
		var ok bool
		if rest, ok = rs.s.localPath(ref, rs.publicBase); !ok {
			return "", nil // another server's resource: the upstream does not resolve it
		}
	}
	segs := strings.Split(rest, "/")
	ok := (len(segs) == 2 || len(segs) == 4 && segs[2] == "_history" && validSegment(segs[3])) &&
		isType(segs[0]) && validSegment(segs[0]) && validSegment(segs[1]) && !strings.HasPrefix(segs[1], "_") && !strings.HasPrefix(segs[1], "$")
	if !ok {
		return "", fail(http.StatusBadRequest, "invalid", path+" holds a reference the proxy cannot check: a local reference must read Type/id", nil)
	}
	if len(segs) == 4 {
		return segs[0] + "/" + segs[1] + "/_history/" + segs[3], nil
	}
	return segs[0] + "/" + segs[1], nil
}

// check reads every target collected and decides it for the caller. The
// first site (in document order) whose target the caller may not read, or
// that does not exist, is refused with an answer that depends on the
// request alone; any other failure to check a target, the first in the
// same order, is answered as such.
func (rs *refScan) check(ctx context.Context, ex *exchange) *Failure {
	if len(rs.sites) == 0 {
		return nil
	}
	targets := make([]string, len(rs.sites))
	for i, site := range rs.sites {
		targets[i] = site.target
	}
	for i, f := range rs.s.readTargets(ctx, ex, targets) {
		if f == nil {
			continue
		}
		if errors.Is(f, errMissing) {
			return unknownReference(rs.sites[i])
		}
		return f
	}
	return nil
}

// readTargets reads and decides each target ("Type/id") as the caller's
// read of it would be, refWorkers at a time, and returns, by target, nil
// for one the caller may read, the errMissing failure for one withheld or
// missing, or the failure to read it.
func (s *Server) readTargets(ctx context.Context, ex *exchange, targets []string) []*Failure {
	results := make([]*Failure, len(targets))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(refWorkers, len(targets)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				// id may be "c1/_history/2": the version is read and
				// decided as the resource is (fetchStored reads the path).
				typ, id, _ := strings.Cut(targets[i], "/")
				sub := *ex
				sub.req = fhirRequest{Interaction: Read, Type: typ, ID: id, Path: typ + "/" + id}
				_, results[i] = s.stored(ctx, &sub, sub.req, false)
			}
		}()
	}
	for i := range targets {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// unknownReference is the one answer for a reference to a resource that is
// missing or withheld from the caller.
func unknownReference(site refSite) *Failure {
	return fail(http.StatusBadRequest, "invalid", site.path+" refers to "+site.target+", which is not known", nil)
}

// guardRefs checks the references of one resource body.
func (s *Server) guardRefs(ctx context.Context, ex *exchange, body []byte) *Failure {
	rs := s.newRefScan(ex)
	if f := rs.resource(body); f != nil {
		return f
	}
	return rs.check(ctx, ex)
}

// patch collects the references a patch writes: in a JSON Patch, every
// reference in an operation's value, and a string value written to a
// path ending in /reference; in a FHIRPath Patch (Parameters), every
// reference in it (valueReference) and a string value written to an
// element named reference.
func (rs *refScan) patch(typ, contentType string, body []byte) *Failure {
	bad := fail(http.StatusBadRequest, "invalid", "the patch body is not valid", nil)
	if mediaType(contentType) == "application/json-patch+json" {
		var ops []struct {
			Op    string          `json:"op"`
			Path  string          `json:"path"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(body, &ops); err != nil {
			return bad
		}
		for _, op := range ops {
			if o := strings.ToLower(op.Op); o == "copy" || o == "move" {
				// What they write comes from the resource itself, where an
				// earlier op can have put any string (QA: add a note
				// "Condition/x", copy it to /focus/0/reference).
				return notSupported("JSON Patch copy and move are not supported through the proxy: the references they would write cannot be checked; use add or replace with the value")
			}
			if strings.EqualFold(op.Op, "test") {
				// The server tests the stored resource, elements cut from
				// the caller's view included (QA: test
				// /managingOrganization/reference against the program
				// answered 200, a wrong guess 422). If-Match is FHIR's
				// precondition.
				return notSupported("JSON Patch test is not supported through the proxy: it would test elements withheld from you; use If-Match for a precondition")
			}
			if len(op.Value) == 0 {
				continue
			}
			path := pointerPath(typ, op.Path)
			var ref string
			if strings.HasSuffix(op.Path, "/reference") && json.Unmarshal(op.Value, &ref) == nil {
				if f := rs.add(path, ref); f != nil {
					return f
				}
				continue
			}
			if f := rs.walkJSON(op.Value, path); f != nil {
				return f
			}
		}
		return nil
	}
	if f := rs.walkJSON(body, typ); f != nil {
		return f
	}
	var p struct {
		Parameter []struct {
			Part []map[string]json.RawMessage `json:"part"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return bad
	}
	for _, op := range p.Parameter {
		// Every path and name, and every string value[x] of them and of
		// the value: a server reads a part's value whatever its type
		// (valueCode as well as valueString) and may take the first of
		// two parts of one name where the last was read here.
		var paths, names, values []string
		var complex []json.RawMessage
		for _, part := range op.Part {
			var n string
			_ = json.Unmarshal(part["name"], &n)
			switch n {
			case "path":
				paths = append(paths, partStrings(part)...)
			case "name":
				names = append(names, partStrings(part)...)
			case "value":
				values = append(values, partStrings(part)...)
				complex = append(complex, part["part"])
			}
		}
		// FHIRPath quotes names in backticks: `reference` is reference.
		at := typ
		if len(paths) > 0 {
			at = strings.TrimSuffix(strings.ReplaceAll(paths[0], "`", ""), ".reference")
		}
		// A complex value given as parts (a Reference as a part named
		// reference): QA wrote one past the check.
		for _, c := range complex {
			if f := rs.patchParts(at, c); f != nil {
				return f
			}
		}
		// A string written where a path or name could reach a reference
		// element is read as a reference: reference anywhere in them, not
		// only last (Observation.focus.reference.first() is one), or an
		// element reached without naming it (fhirPathOpaque). QA round 20.
		written := false
		for _, n := range append(paths, names...) {
			written = written || strings.Contains(n, "reference") || fhirPathOpaque(n)
		}
		if !written {
			continue
		}
		for _, ref := range values {
			if f := rs.add(at, ref); f != nil {
				return f
			}
		}
	}
	return nil
}

// patchParts collects, from the parts of a FHIRPath Patch value, every
// string written to a part named reference, at any depth.
func (rs *refScan) patchParts(path string, raw json.RawMessage) *Failure {
	if len(raw) == 0 {
		return nil
	}
	var parts []map[string]json.RawMessage
	if json.Unmarshal(raw, &parts) != nil {
		return fail(http.StatusBadRequest, "invalid", "the patch body is not valid", nil)
	}
	for _, part := range parts {
		var n string
		_ = json.Unmarshal(part["name"], &n)
		if strings.ReplaceAll(n, "`", "") == "reference" {
			for k, v := range part {
				var ref string
				if strings.HasPrefix(k, "value") && json.Unmarshal(v, &ref) == nil {
					if f := rs.add(path, ref); f != nil {
						return f
					}
				}
			}
		}
		if f := rs.patchParts(path, part["part"]); f != nil {
			return f
		}
	}
	return nil
}

// pointerPath names the element a JSON Pointer reaches, FHIRPath-like and
// without indexes: /focus/0/reference of an Observation is
// Observation.focus.
func pointerPath(typ, pointer string) string {
	var b strings.Builder
	b.WriteString(typ)
	for _, seg := range strings.Split(pointer, "/") {
		if seg == "" || seg == "-" || seg == "reference" || strings.Trim(seg, "0123456789") == "" {
			continue
		}
		b.WriteString(".")
		b.WriteString(seg)
	}
	return b.String()
}

func mediaType(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt
}
