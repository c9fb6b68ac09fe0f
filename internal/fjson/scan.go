package fjson

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// MaxDepth is the nesting limit of SkipValue and of the functions built on
// it, and the ceiling of the limit Validate takes (encoding/json's limit
// too). It bounds the recursion, and so the stack, a hostile body can cause.
const MaxDepth = 10000

// plain marks the bytes a string can hold without a closer look: printable
// ASCII other than the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special returns a mask with the high bit set in each of the eight bytes
// of x (little-endian) that needs a closer look inside a string: a control
// character, a quote, a backslash or a non-ASCII byte. It may err towards
// set only for bytes after a set one, so its lowest set bit marks the first
// such byte exactly.
//
// Per byte, with no borrow from below: x-0x20 has its high bit set for
// bytes below 0x20 or from 0xA0; q-1 and s-1 for the quote and the
// backslash, and for bytes from 0x80 (x's high bit survives the XOR), but
// for 0xA2 and 0xDD, which x-0x20 flags. Each flags only bytes to look at,
// so no mask of high bits is needed, and a borrow comes only from a byte
// below that is itself flagged. TestSpecialExact checks every byte value.
func special(x uint64) uint64 {
	q := x ^ ('"' * lsb)
	s := x ^ ('\\' * lsb)
	return ((x - 0x20*lsb) | (q - lsb) | (s - lsb)) & msb
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON whitespace, or len(b).
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case c > ' ': // any token: one comparison (the body is rarely indented)
			return i
		case c == ' ', c == '\n', c == '\r', c == '\t':
			i++
		default:
			return i
		}
	}
	return i
}

// String checks the string at b[i] == '"' as Validate does and returns the
// index just past its closing quote: what SkipValue and Checker.Value do
// for a string, without their dispatch, for walkers that have read the
// quote themselves.
func String(b []byte, i int) (int, error) {
	end, _, err := scanString(b, i)
	return end, err
}

// scanString checks the string starting at b[i] == '"' and returns the index
// just past its closing quote and whether it holds escapes.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	i++
	for {
		// Sixteen bytes a step while neither word holds a byte to look at:
		// narratives run to hundreds of plain bytes between escapes.
		for i+16 <= len(b) {
			m := special(binary.LittleEndian.Uint64(b[i:]))
			if m != 0 {
				i += bits.TrailingZeros64(m) >> 3 // the first byte to look at
				goto look
			}
			if m = special(binary.LittleEndian.Uint64(b[i+8:])); m != 0 {
				i += 8 + bits.TrailingZeros64(m)>>3
				goto look
			}
			i += 16
			// Sixteen plain bytes: a long string (a URI, a narrative), which
			// AVX2 reads 32 bytes a step, up to its first byte to look at.
			if haveAVX2 && i+32 <= len(b) {
				whole := (len(b) - i) &^ 31
				j := scanSpecial32(b[i:])
				if i += j; j < whole {
					goto look
				}
			}
		}
		for {
			if i+8 > len(b) {
				for i < len(b) && plain[b[i]] {
					i++
				}
				break
			}
			if m := special(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
	look:
		if i >= len(b) {
			return 0, false, errAt(len(b), "unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 < len(b) && simpleEscape[b[i+1]] { // \" \\ \/ \n ...: no call
				i += 2
				continue
			}
			if i, err = scanEscape(b, i); err != nil {
				return 0, false, err
			}
		case c < 0x20:
			return 0, false, errAt(i, "control character in string")
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, false, errAt(i, "invalid UTF-8 in string")
			}
			i += size
		}
	}
}

// simpleEscape marks the bytes that complete a two-byte escape.
var simpleEscape = func() (t [256]bool) {
	for _, c := range `"\/bfnrt` {
		t[c] = true
	}
	return t
}()

// scanEscape checks the escape sequence at b[i] == '\\' and returns the index
// just past it.
func scanEscape(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 0, errAt(len(b), "unterminated string")
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2, nil
	case 'u':
		if i+6 > len(b) {
			return 0, errAt(len(b), "unterminated string")
		}
		if _, ok := hex4(b[i+2 : i+6]); !ok {
			return 0, errAt(i, "invalid \\u escape")
		}
		return i + 6, nil
	}
	return 0, errAt(i, "invalid escape")
}

// hex4 decodes four hexadecimal digits.
func hex4(h []byte) (rune, bool) {
	var r rune
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scanNumber checks the number starting at b[i] and returns the index just
// past it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return 0, errAt(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); b[i-1] == '.' {
			return 0, errAt(start, "invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		mark := i
		if i = digits(b, i); i == mark {
			return 0, errAt(start, "invalid number")
		}
	}
	return i, nil
}

// digits returns the index of the first non-digit at or after i.
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// scanLiteral checks that b[i:] starts with lit and returns the index past it.
func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errAt(i, "invalid literal")
	}
	return i + len(lit), nil
}

// scanScalar checks the string, number or literal starting at b[i].
func scanScalar(b []byte, i int) (int, error) {
	switch c := b[i]; {
	case c == '"':
		end, _, err := scanString(b, i)
		return end, err
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	}
	return 0, errAt(i, "invalid character")
}

// SkipValue checks the JSON value that starts at or after i (after optional
// whitespace) and returns the index just past it. It nests at most MaxDepth
// deep and does not look for duplicate keys (Validate does).
func SkipValue(b []byte, i int) (end int, err error) {
	if i < 0 {
		return 0, errAt(0, "negative offset")
	}
	return skipValue(b, i, 0)
}

// skipValue is SkipValue at nesting depth d.
func skipValue(b []byte, i, d int) (int, error) {
	if i = SkipSpace(b, i); i >= len(b) {
		return 0, errEnd(b)
	}
	switch b[i] {
	case '{':
		return skipObject(b, i, d+1)
	case '[':
		return skipArray(b, i, d+1)
	}
	return scanScalar(b, i)
}

// skipObject skips the object at b[i] == '{' at depth d.
func skipObject(b []byte, i, d int) (int, error) {
	if d > MaxDepth {
		return 0, errAt(i, "nesting too deep")
	}
	if i = SkipSpace(b, i+1); i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		k, err := scanKey(b, i)
		if err != nil {
			return 0, err
		}
		if i, err = skipValue(b, k, d); err != nil {
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

// skipArray skips the array at b[i] == '[' at depth d.
func skipArray(b []byte, i, d int) (int, error) {
	if d > MaxDepth {
		return 0, errAt(i, "nesting too deep")
	}
	if i = SkipSpace(b, i+1); i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = skipValue(b, i, d); err != nil {
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

// scanKey checks the member name at or after i and the colon after it, and
// returns the index just past the colon.
func scanKey(b []byte, i int) (int, error) {
	if i = SkipSpace(b, i); i >= len(b) {
		return 0, errEnd(b)
	}
	if b[i] != '"' {
		return 0, errAt(i, "expected string key")
	}
	end, _, err := scanString(b, i)
	if err != nil {
		return 0, err
	}
	return colon(b, end)
}

// colon expects optional whitespace and a colon at i and returns the index
// just past the colon.
func colon(b []byte, i int) (int, error) {
	if i = SkipSpace(b, i); i >= len(b) {
		return 0, errEnd(b)
	}
	if b[i] != ':' {
		return 0, errAt(i, "expected colon")
	}
	return i + 1, nil
}

// next reads the delimiter after a member or element: a comma (done is false
// and the index is past it) or the closing bracket (done is true and the
// index is past the bracket).
func next(b []byte, i int, closing byte) (int, bool, error) {
	if i = SkipSpace(b, i); i >= len(b) {
		return 0, false, errEnd(b)
	}
	switch b[i] {
	case ',':
		return i + 1, false, nil
	case closing:
		return i + 1, true, nil
	}
	return 0, false, errAt(i, "expected comma or closing bracket")
}
