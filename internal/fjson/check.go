package fjson

// Piecewise validation: the same rules as Validate (grammar, UTF-8,
// escapes, nesting limit, duplicate keys), checked by a walk that reads a
// body for its own purpose anyway, so that the body need not be read once
// more just to validate it.

// Checker checks one JSON document piece by piece, by the rules of
// Validate, for a walker that reads the values itself: it opens objects
// with ObjectScan and arrays with ArrayScan, giving each its nesting depth
// (the outermost object or array has depth 1), and checks every value it
// does not open with Value. A walk that consumes every value of the
// document in one of these ways has checked all of it exactly as Validate
// would (except for what is around the outermost value, which is the
// caller's). The zero Checker is ready after Reset.
type Checker struct {
	v validator
}

// Reset points c at b, with the nesting limit maxDepth (lowered to
// MaxDepth), keeping the room c has for member names.
func (c *Checker) Reset(b []byte, maxDepth int) {
	c.v = validator{b: b, maxDepth: min(maxDepth, MaxDepth), keys: c.v.keys[:0]}
}

// Value checks the value at or after i, held in an object or array of
// depth d (0: at the top), and returns the index just past it.
func (c *Checker) Value(i, d int) (int, error) {
	if i < 0 {
		return 0, errAt(0, "negative offset")
	}
	if b := c.v.b; i < len(b) && b[i] == '"' { // most values a walker leaves to Value are strings
		end, _, err := scanString(b, i)
		return end, err
	}
	return c.v.value(i, d)
}

// ObjectScan is fjson.ObjectScan for the object of depth d at or after
// obj, checking its keys, that none occurs twice (escapes decoded) and
// that d is within the limit. fn must consume each value through c (or
// walk it the same way) and return the index just past it.
func (c *Checker) ObjectScan(obj, d int, fn func(key []byte, vStart int) (vEnd int, err error)) (end int, err error) {
	v := &c.v
	b := v.b
	i, err := open(b, obj, '{')
	if err != nil {
		return 0, err
	}
	if d > v.maxDepth {
		return 0, errAt(i-1, "nesting too deep")
	}
	if i = SkipSpace(b, i); i < len(b) && b[i] == '}' {
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
		vs := k.end + 1
		if vs < len(b) && b[vs] == ':' { // compact JSON: no call
			vs++
		} else if vs, err = colon(b, vs); err != nil {
			return 0, err
		}
		if vs = SkipSpace(b, vs); vs >= len(b) {
			return 0, errEnd(b)
		}
		vEnd, err := fn(b[k.start:k.end], vs)
		if i, err = checkEnd(b, vs, vEnd, err); err != nil {
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

// ArrayScan is fjson.ArrayScan for the array of depth d at or after arr,
// checking that d is within the limit. fn must consume each element
// through c (or walk it the same way).
func (c *Checker) ArrayScan(arr, d int, fn func(vStart int) (vEnd int, err error)) (end int, err error) {
	if d > c.v.maxDepth {
		return 0, errAt(min(max(arr, 0), len(c.v.b)), "nesting too deep")
	}
	return ArrayScan(c.v.b, arr, fn)
}
