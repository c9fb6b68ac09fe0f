package fjson

import (
	"unicode"
	"unicode/utf8"
)

// FoldedDuplicate reports an error when an object anywhere in b, valid
// JSON (Validate), has two member names that are equal when case is
// folded as encoding/json folds it ("entry" and "Entry", "request" and
// "requeſt": bytes.EqualFold). FHIR names are case-sensitive, and so are
// the servers a proxy fronts (JSON.parse, Jackson), while encoding/json
// matches a struct field's name in any case and lets the last of such
// members win: a request body holding both would be checked as one thing
// and stored as another. Validate already refuses names equal as they
// are. Request bodies are small; b is walked once, each object's names
// compared folded.
func FoldedDuplicate(b []byte) error {
	return foldWalk(b, SkipSpace(b, 0), 0)
}

func foldWalk(b []byte, i, depth int) error {
	if depth > MaxDepth {
		return errAt(i, "nesting too deep")
	}
	if i >= len(b) {
		return errEnd(b)
	}
	switch b[i] {
	case '{':
		var seen map[string]struct{}
		var first []byte
		n := 0
		return ObjectEach(b, i, func(key []byte, vs, _ int) error {
			folded := foldKey(key)
			switch n {
			case 0:
				first = folded
			case 1:
				seen = map[string]struct{}{string(first): {}}
				fallthrough
			default:
				if _, dup := seen[string(folded)]; dup {
					return errAt(vs, "member names differ only in case")
				}
				seen[string(folded)] = struct{}{}
			}
			n++
			return foldWalk(b, vs, depth+1)
		})
	case '[':
		return ArrayEach(b, i, func(vs, _ int) error { return foldWalk(b, vs, depth+1) })
	}
	return nil
}

// foldKey is the raw member name key decoded and folded as encoding/json
// folds names (fold.go appendFoldedName): ASCII letters upper-cased, other
// runes to the smallest rune of their simple-fold orbit.
func foldKey(key []byte) []byte {
	raw, ok := appendUnquoted(make([]byte, 0, len(key)), key)
	if !ok {
		raw = append(raw[:0], key...)
	}
	out := raw[:0:0]
	for j := 0; j < len(raw); {
		if c := raw[j]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			j++
			continue
		}
		r, n := utf8.DecodeRune(raw[j:])
		out = utf8.AppendRune(out, foldRune(r))
		j += n
	}
	return out
}

// foldRune returns the smallest rune of r's simple-fold orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
