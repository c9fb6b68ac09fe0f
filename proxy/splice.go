package proxy

import (
	"bytes"
	"errors"
	"net/http"
	"slices"

	"github.com/ds4p/ds4p/internal/fjson"
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// trim narrows [start, end) to the JSON value without surrounding space.
func trim(b []byte, start, end int) (int, int) {
	for start < end && isSpace(b[start]) {
		start++
	}
	for end > start && isSpace(b[end-1]) {
		end--
	}
	return start, end
}

// memberStart finds the opening quote of the key whose value starts at vs.
func memberStart(b []byte, rawKey []byte, vs int) int {
	i := vs - 1
	for i >= 0 && (isSpace(b[i]) || b[i] == ':') {
		i--
	}
	// b[i] is the key's closing quote
	return i - len(rawKey) - 1
}

// commonKeys are the keys the pipeline switches on, returned by keyName
// without allocating a string for each.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"resourceType", "id", "meta", "type", "total", "link", "entry", "fullUrl", "resource",
		"search", "response", "request", "mode", "status", "outcome", "url", "method", "relation", "reference",
		"contained", "text", "div", "subject", "patient", "code", "system", "display", "extension", "valueCoding"} {
		m[k] = k
	}
	return m
}()

// keyBytes is keyName for a key looked at only within the call: a key
// without escapes is its raw bytes, no string made (a switch on string(k)
// and a map index by it do not allocate), one with escapes is decoded. The
// attachment walks look at every member of the resources they walk.
func keyBytes(raw []byte) []byte {
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw
	}
	return []byte(keyName(raw))
}

// keyName decodes a raw object key. Keys with escapes are decoded, so that
// "entr\u0079" is seen as the "entry" every JSON client will read.
func keyName(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		if k, ok := commonKeys[string(raw)]; ok { // no allocation on the hot path
			return k
		}
		return string(raw)
	}
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	s, ok := fjson.StringValue(q, 0, len(q))
	if !ok {
		return "\x00invalid"
	}
	return s
}

// removeMembers returns the edits that delete the members at idx (any
// order) from an object, with the commas that separate them, so that what
// is left is valid JSON.
func removeMembers(ms []member, idx []int) []fjson.Edit {
	gone := make([]bool, len(ms))
	for _, i := range idx {
		gone[i] = true
	}
	var edits []fjson.Edit
	for i := 0; i < len(ms); {
		if !gone[i] {
			i++
			continue
		}
		j := i
		for j+1 < len(ms) && gone[j+1] {
			j++
		}
		switch {
		case j+1 < len(ms): // a kept member follows: delete up to it
			edits = append(edits, fjson.Edit{Start: ms[i].start, End: ms[j+1].start})
		case i > 0: // the run ends the object: delete from the kept one before
			edits = append(edits, fjson.Edit{Start: ms[i-1].end, End: ms[j].end})
		default: // every member goes
			edits = append(edits, fjson.Edit{Start: ms[i].start, End: ms[j].end})
		}
		i = j + 1
	}
	return edits
}

// applyRange appends src[start:end] with edits (absolute, sorted,
// non-overlapping, inside the range) applied.
func applyRange(dst, src []byte, start, end int, edits []fjson.Edit) []byte {
	pos := start
	for _, e := range edits {
		dst = append(dst, src[pos:e.Start]...)
		dst = append(dst, e.Data...)
		pos = e.End
	}
	return append(dst, src[pos:end]...)
}

// splice replaces src[start:end] with data, or with what render appends
// when the replacement is itself built from the body (entries, nested
// Bundles): written straight into the output, never into a buffer of its own.
type splice struct {
	start, end int
	data       []byte
	render     func(dst []byte) ([]byte, error)
	// quoted, when set, writes the JSON string "data + src[from:to]"
	// (alloc.go: a rewritten URL without a copy of its own).
	quoted   bool
	from, to int
}

func appendEdits(ss []splice, edits []fjson.Edit) []splice {
	for _, e := range edits {
		ss = append(ss, splice{start: e.Start, end: e.End, data: e.Data})
	}
	return ss
}

// applySplices appends src[start:end] with the splices applied; they must
// lie inside the range and not overlap.
func applySplices(dst, src []byte, start, end int, ss []splice) ([]byte, error) {
	// An insertion sorts before a replacement that starts where it is.
	if len(ss) > 1 {
		slices.SortStableFunc(ss, compareSplices)
	}
	pos := start
	var err error
	for _, s := range ss {
		if s.start < pos || s.end > end {
			return nil, fail(http.StatusInternalServerError, "exception", "the response could not be rewritten; it was withheld", errors.New("overlapping splices"))
		}
		dst = append(dst, src[pos:s.start]...)
		switch {
		case s.render != nil:
			if dst, err = s.render(dst); err != nil {
				return nil, err
			}
		case s.quoted:
			dst = append(append(append(append(dst, '"'), s.data...), src[s.from:s.to]...), '"')
		default:
			dst = append(dst, s.data...)
		}
		pos = s.end
	}
	return append(dst, src[pos:end]...), nil
}

func asFailure(err error) error {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return fail(http.StatusBadGateway, "processing", "the FHIR server answered with JSON the proxy cannot read", err)
}

// errStop ends an iteration early.
var errStop = errors.New("stop")
