package fjson

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// Validate checks that b holds exactly one RFC 8259 JSON value, with only
// whitespace around it, nested at most maxDepth deep (a scalar has depth 0,
// "{}" depth 1). Strings must be valid UTF-8 with valid escapes and no raw
// control characters, and numbers must follow the grammar. A key that occurs
// twice in one object (compared after decoding escapes) is an error too:
// FHIR forbids it, and readers disagree about which copy wins. A maxDepth
// above MaxDepth is lowered to it.
func Validate(b []byte, maxDepth int) error {
	var stack [64]key
	v := validator{b: b, maxDepth: min(maxDepth, MaxDepth), keys: stack[:0]}
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
	// keys is a stack of the member names of the objects being read: each
	// object appends its own above those of the objects around it and
	// drops them when it ends, so that no object needs an array of its own.
	keys []key
}

// key is the position of one member name, quotes excluded, and a tag of
// its raw bytes: keys without escapes can only be equal when their tags
// are.
type key struct {
	start, end int
	escaped    bool
	tag        uint64
}

// keyTag returns a tag of the raw key b[start:end]: its first eight bytes
// and its length.
func keyTag(b []byte, start, end int) uint64 {
	n := end - start
	var t uint64
	if start+8 <= len(b) {
		t = binary.LittleEndian.Uint64(b[start:])
		if n < 8 {
			t &= 1<<(8*n) - 1
		}
	} else {
		for k := min(n, 8) - 1; k >= 0; k-- {
			t = t<<8 | uint64(b[start+k])
		}
	}
	return t ^ uint64(n)*0x9e3779b97f4a7c15
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
	o := objectKeys{base: len(v.keys)}
	for {
		k, err := v.key(i)
		if err != nil {
			return 0, err
		}
		if err = v.unique(&o, k); err != nil {
			return 0, err
		}
		if i = k.end + 1; i < len(b) && b[i] == ':' { // compact JSON: no call
			i++
		} else if i, err = colon(b, i); err != nil {
			return 0, err
		}
		if i, err = v.value(i, d); err != nil {
			return 0, err
		}
		if i < len(b) && b[i] == ',' { // compact JSON: no call
			i++
			continue
		}
		var done bool
		if i, done, err = next(b, i, '}'); done || err != nil {
			v.keys = v.keys[:o.base] // this object's keys are done with
			return i, err
		}
	}
}

// objectKeys is what unique knows of the keys of one object: they are
// v.keys[base:], or, past quadraticKeys, in seen; bloom has a bit set for
// the tag of each, and escaped says one holds an escape.
type objectKeys struct {
	base    int
	seen    map[string]struct{}
	bloom   uint64
	escaped bool
}

// bloomBit is the bit of tag t in objectKeys.bloom.
func bloomBit(t uint64) uint64 { return 1 << ((t * 0x9e3779b97f4a7c15) >> 58) }

// key checks the member name at or after i.
func (v *validator) key(i int) (key, error) {
	b := v.b
	if i = SkipSpace(b, i); i >= len(b) {
		return key{}, errEnd(b)
	}
	if b[i] != '"' {
		return key{}, errAt(i, "expected string key")
	}
	// Most member names are plain ASCII of under eight bytes: when the
	// first byte past the name that needs a look is its closing quote, the
	// name is checked without a call to scanString.
	if i+9 <= len(b) {
		if m := special(binary.LittleEndian.Uint64(b[i+1:])); m != 0 {
			if q := i + 1 + bits.TrailingZeros64(m)>>3; b[q] == '"' {
				return key{start: i + 1, end: q, tag: keyTag(b, i+1, q)}, nil
			}
		}
	}
	end, esc, err := scanString(b, i)
	if err != nil {
		return key{}, err
	}
	return key{start: i + 1, end: end - 1, escaped: esc, tag: keyTag(b, i+1, end-1)}, nil
}

// unique reports an error if k equals a key of the current object (o), and
// records k. A key whose tag's bit is not in o.bloom, when neither it nor
// any earlier key holds an escape, is new without a comparison (equal raw
// keys have equal tags); otherwise small objects compare pairs, and large
// ones switch to a map.
func (v *validator) unique(o *objectKeys, k key) error {
	bit := bloomBit(k.tag)
	if o.seen == nil && o.bloom&bit == 0 && !k.escaped && !o.escaped {
		o.bloom |= bit
		v.keys = append(v.keys, k)
		return nil
	}
	o.bloom |= bit
	o.escaped = o.escaped || k.escaped
	keys := v.keys[o.base:]
	if o.seen == nil && len(keys) >= quadraticKeys {
		o.seen = make(map[string]struct{}, 2*len(keys))
		for _, ok := range keys {
			o.seen[v.decoded(ok)] = struct{}{}
		}
	}
	if o.seen != nil {
		s := v.decoded(k)
		if _, dup := o.seen[s]; dup {
			return errAt(k.start-1, "duplicate key")
		}
		o.seen[s] = struct{}{}
		return nil
	}
	for _, ok := range keys {
		if (ok.tag == k.tag || ok.escaped || k.escaped) && v.sameKey(ok, k) {
			return errAt(k.start-1, "duplicate key")
		}
	}
	v.keys = append(v.keys, k)
	return nil
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
		if i < len(b) && b[i] == ',' { // compact JSON: no call
			i++
			continue
		}
		var done bool
		if i, done, err = next(b, i, ']'); done || err != nil {
			return i, err
		}
	}
}
