package fjson

import "bytes"

// Validate checks that b holds exactly one RFC 8259 JSON value, with only
// whitespace around it, nested at most maxDepth deep (a scalar has depth 0,
// "{}" depth 1). Strings must be valid UTF-8 with valid escapes and no raw
// control characters, and numbers must follow the grammar. A key that occurs
// twice in one object (compared after decoding escapes) is an error too:
// FHIR forbids it, and readers disagree about which copy wins. A maxDepth
// above MaxDepth is lowered to it.
func Validate(b []byte, maxDepth int) error {
	v := validator{b: b, maxDepth: min(maxDepth, MaxDepth)}
	end, err := v.value(0, 0)
	if err != nil {
		return err
	}
	if end = SkipSpace(b, end); end != len(b) {
		return errAt(end, "data after top-level value")
	}
	return nil
}

// validator carries what Validate's recursion needs.
type validator struct {
	b        []byte
	maxDepth int
}

// key is the position of one member name, quotes excluded.
type key struct {
	start, end int
	escaped    bool
}

// quadraticKeys is the object size above which duplicate keys are found with
// a map instead of by comparing every pair.
const quadraticKeys = 128

// value validates the value at or after i at depth d.
func (v *validator) value(i, d int) (int, error) {
	b := v.b
	if i = SkipSpace(b, i); i >= len(b) {
		return 0, errEnd(b)
	}
	switch b[i] {
	case '{':
		return v.object(i, d+1)
	case '[':
		return v.array(i, d+1)
	}
	return scanScalar(b, i)
}

// object validates the object at b[i] == '{' at depth d.
func (v *validator) object(i, d int) (int, error) {
	b := v.b
	if d > v.maxDepth {
		return 0, errAt(i, "nesting too deep")
	}
	if i = SkipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	var local [32]key
	keys := local[:0]
	var seen map[string]struct{}
	for {
		k, err := v.key(i)
		if err != nil {
			return 0, err
		}
		if keys, seen, err = v.unique(keys, seen, k); err != nil {
			return 0, err
		}
		if i, err = colon(b, k.end+1); err != nil {
			return 0, err
		}
		if i, err = v.value(i, d); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = next(b, i, '}'); done || err != nil {
			return i, err
		}
	}
}

// key checks the member name at or after i.
func (v *validator) key(i int) (key, error) {
	b := v.b
	if i = SkipSpace(b, i); i >= len(b) {
		return key{}, errEnd(b)
	}
	if b[i] != '"' {
		return key{}, errAt(i, "expected string key")
	}
	end, esc, err := scanString(b, i)
	return key{start: i + 1, end: end - 1, escaped: esc}, err
}

// unique reports an error if k equals a key already in keys or seen, and
// records k. Small objects compare pairs; large ones switch to a map.
func (v *validator) unique(keys []key, seen map[string]struct{}, k key) ([]key, map[string]struct{}, error) {
	if seen == nil && len(keys) >= quadraticKeys {
		seen = make(map[string]struct{}, 2*len(keys))
		for _, o := range keys {
			seen[v.decoded(o)] = struct{}{}
		}
	}
	if seen != nil {
		s := v.decoded(k)
		if _, dup := seen[s]; dup {
			return nil, nil, errAt(k.start-1, "duplicate key")
		}
		seen[s] = struct{}{}
		return keys, seen, nil
	}
	for _, o := range keys {
		if v.sameKey(o, k) {
			return nil, nil, errAt(k.start-1, "duplicate key")
		}
	}
	return append(keys, k), nil, nil
}

// sameKey compares two member names after decoding escapes.
func (v *validator) sameKey(a, k key) bool {
	ra, rk := v.b[a.start:a.end], v.b[k.start:k.end]
	if !a.escaped && !k.escaped {
		return bytes.Equal(ra, rk)
	}
	return v.decoded(a) == v.decoded(k)
}

// decoded returns the member name with escapes decoded.
func (v *validator) decoded(k key) string {
	raw := v.b[k.start:k.end]
	if !k.escaped {
		return string(raw)
	}
	s, _ := appendUnquoted(nil, raw)
	return string(s)
}

// array validates the array at b[i] == '[' at depth d.
func (v *validator) array(i, d int) (int, error) {
	b := v.b
	if d > v.maxDepth {
		return 0, errAt(i, "nesting too deep")
	}
	if i = SkipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = v.value(i, d); err != nil {
			return 0, err
		}
		var done bool
		if i, done, err = next(b, i, ']'); done || err != nil {
			return i, err
		}
	}
}
