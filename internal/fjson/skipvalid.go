package fjson

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// SkipValid returns the index just past the JSON value that starts at or
// after i (after optional whitespace), for input already checked by
// Validate: it only matches quotes and brackets, so it runs at a multiple of
// SkipValue's speed, and it reports an error only when the value is cut
// short. On input Validate refused its answer is unspecified (never a
// panic): use SkipValue there.
func SkipValid(b []byte, i int) (int, error) {
	if i = SkipSpace(b, max(i, 0)); i >= len(b) {
		return 0, errEnd(b)
	}
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			end, ok := stringEnd(b, i)
			if !ok {
				return 0, errEnd(b)
			}
			i = end
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
		default:
			if depth == 0 { // a scalar at the top: up to a delimiter
				for i < len(b) && !delimiter(b[i]) {
					i++
				}
				return i, nil
			}
			i++
			continue
		}
		if depth <= 0 {
			return i, nil
		}
	}
	return 0, errEnd(b)
}

// SkipObjectValid is SkipValid for the object that starts at or after obj,
// for input Validate already accepted, that also returns where the value
// of its member name starts (-1 when it has none): one pass that matches
// quotes and brackets and compares only the object's own keys with name
// (KeyIs: escapes decoded). On input Validate refused its answer is
// unspecified (never a panic).
func SkipObjectValid(b []byte, obj int, name string) (end, member int, err error) {
	i := SkipSpace(b, max(obj, 0))
	if i >= len(b) || b[i] != '{' {
		return 0, -1, expected(b, i, "expected object")
	}
	member = -1
	depth := 0
	key := true // in the object itself, the next string is a key
	for i < len(b) {
		switch b[i] {
		case '"':
			end, ok := stringEnd(b, i)
			if !ok {
				return 0, -1, errEnd(b)
			}
			if depth == 1 && key {
				key = false
				if member < 0 && KeyIs(b[i+1:end-1], name) {
					if v := SkipSpace(b, end); v < len(b) && b[v] == ':' {
						member = SkipSpace(b, v+1)
					}
				}
			}
			i = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth == 0 {
				return i + 1, member, nil
			}
		case ',':
			key = key || depth == 1
		}
		i++
	}
	return 0, -1, errEnd(b)
}

// stringEnd returns the index just past the string whose opening quote is
// at b[i], found with bytes.IndexByte and a count of the backslashes before
// each quote.
func stringEnd(b []byte, i int) (int, bool) {
	j := i + 1
	// Most strings of a FHIR resource (keys, codes, ids) are short: look
	// for the first quote or backslash eight bytes at a time before paying
	// for a bytes.IndexByte call.
	for n := 0; n < 2 && j+8 <= len(b); n++ {
		x := binary.LittleEndian.Uint64(b[j:])
		q, s := x^('"'*lsb), x^('\\'*lsb)
		if m := ((q-lsb)&^q | (s-lsb)&^s) & msb; m != 0 {
			// The lowest flagged byte is a real quote or backslash (only
			// bytes above a real one can be flagged falsely).
			if k := j + bits.TrailingZeros64(m)/8; b[k] == '"' {
				return k + 1, true
			}
			break // a backslash: count them below
		}
		j += 8
	}
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, false
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1, true
		}
		j = q + 1
	}
}

func delimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
