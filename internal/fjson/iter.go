package fjson

// ObjectScan walks the object that starts at or after obj and calls fn with
// each member's raw key (the bytes between the quotes, escapes undecoded) and
// the index of the first byte of its value. fn consumes the value itself, by
// descending into it or calling SkipValue, and returns the index just past
// it; this lets a walker visit nested values in a single pass. ObjectScan
// returns the index just past the closing brace.
func ObjectScan(b []byte, obj int, fn func(key []byte, vStart int) (vEnd int, err error)) (end int, err error) {
	return objectScan(b, obj, fn, false)
}

// ObjectScanValid is ObjectScan for input Validate already accepted (the
// object alone, or a body that holds it): it finds the end of each key by
// its closing quote instead of checking the key, as SkipValid does. It never
// panics; on input Validate refused its answer is unspecified.
func ObjectScanValid(b []byte, obj int, fn func(key []byte, vStart int) (vEnd int, err error)) (end int, err error) {
	return objectScan(b, obj, fn, true)
}

// objectScan is ObjectScan, or ObjectScanValid when valid.
func objectScan(b []byte, obj int, fn func(key []byte, vStart int) (vEnd int, err error), valid bool) (end int, err error) {
	i, err := open(b, obj, '{')
	if err != nil {
		return 0, err
	}
	if i = SkipSpace(b, i); i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i = SkipSpace(b, i); i >= len(b) || b[i] != '"' {
			return 0, expected(b, i, "expected string key")
		}
		var kEnd int
		if valid {
			var ok bool
			if kEnd, ok = stringEnd(b, i); !ok {
				return 0, errEnd(b)
			}
		} else if kEnd, _, err = scanString(b, i); err != nil {
			return 0, err
		}
		v := kEnd
		if v < len(b) && b[v] == ':' { // compact JSON: no call
			v++
		} else if v, err = colon(b, v); err != nil {
			return 0, err
		}
		if v = SkipSpace(b, v); v >= len(b) {
			return 0, errEnd(b)
		}
		vEnd, err := fn(b[i+1:kEnd-1], v)
		if i, err = checkEnd(b, v, vEnd, err); err != nil {
			return 0, err
		}
		if i < len(b) && b[i] == ',' { // compact JSON: no call
			i++
			continue
		}
		var done bool
		if i, done, err = next(b, i, '}'); done || err != nil {
			return i, err
		}
	}
}

// ArrayScan walks the array that starts at or after arr and calls fn with the
// index of the first byte of each element; fn returns the index just past
// the element, as for ObjectScan. ArrayScan returns the index just past the
// closing bracket.
func ArrayScan(b []byte, arr int, fn func(vStart int) (vEnd int, err error)) (end int, err error) {
	i, err := open(b, arr, '[')
	if err != nil {
		return 0, err
	}
	if i = SkipSpace(b, i); i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		if i = SkipSpace(b, i); i >= len(b) {
			return 0, errEnd(b)
		}
		vEnd, err := fn(i)
		if i, err = checkEnd(b, i, vEnd, err); err != nil {
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

// ObjectEach calls fn for each member of the object that starts at or after
// obj, with the raw key and the bounds of the value.
func ObjectEach(b []byte, obj int, fn func(key []byte, vStart, vEnd int) error) error {
	_, err := ObjectScan(b, obj, func(key []byte, vStart int) (int, error) {
		vEnd, err := SkipValue(b, vStart)
		if err != nil {
			return 0, err
		}
		return vEnd, fn(key, vStart, vEnd)
	})
	return err
}

// ArrayEach calls fn with the bounds of each element of the array that
// starts at or after arr.
func ArrayEach(b []byte, arr int, fn func(vStart, vEnd int) error) error {
	_, err := ArrayScan(b, arr, func(vStart int) (int, error) {
		vEnd, err := SkipValue(b, vStart)
		if err != nil {
			return 0, err
		}
		return vEnd, fn(vStart, vEnd)
	})
	return err
}

// Lookup finds the member named key in the object that starts at or after
// obj. It reads the whole object and reports an error when key occurs more
// than once, so that a second copy cannot hide behind the first.
func Lookup(b []byte, obj int, key string) (vStart, vEnd int, ok bool, err error) {
	err = ObjectEach(b, obj, func(k []byte, s, e int) error {
		if !KeyIs(k, key) {
			return nil
		}
		if ok {
			return errAt(s, "duplicate key")
		}
		vStart, vEnd, ok = s, e, true
		return nil
	})
	if err != nil {
		return 0, 0, false, err
	}
	return vStart, vEnd, ok, nil
}

// open expects the opening bracket c at or after i and returns the index
// just past it.
func open(b []byte, i int, c byte) (int, error) {
	if i < 0 {
		return 0, errAt(0, "negative offset")
	}
	if i = SkipSpace(b, i); i >= len(b) {
		return 0, errEnd(b)
	}
	if b[i] != c {
		if c == '{' {
			return 0, errAt(i, "expected object")
		}
		return 0, errAt(i, "expected array")
	}
	return i + 1, nil
}

// checkEnd passes on a callback's error, or checks the end it reported for
// the value that starts at vStart.
func checkEnd(b []byte, vStart, vEnd int, err error) (int, error) {
	if err != nil {
		return 0, err
	}
	if vEnd <= vStart || vEnd > len(b) {
		return 0, errAt(vStart, "callback reported an invalid value end")
	}
	return vEnd, nil
}

// expected reports a missing token at i, or the end of input.
func expected(b []byte, i int, msg string) error {
	if i >= len(b) {
		return errEnd(b)
	}
	return errAt(i, msg)
}
