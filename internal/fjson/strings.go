package fjson

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// KeyIs reports whether raw, the bytes between the quotes of a JSON string
// (as ObjectEach passes keys), decodes to s. It decodes escapes only when raw
// holds a backslash, and never allocates.
func KeyIs(raw []byte, s string) bool {
	// An escape always decodes to fewer bytes than it takes, so raw can only
	// match a string at least as long as itself by holding no escape at all.
	if len(raw) <= len(s) {
		return string(raw) == s && strings.IndexByte(s, '\\') < 0
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return false
	}
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(raw); {
		chunk, n := decodeOne(raw, i, &buf)
		if n == 0 || len(chunk) > len(s) || string(chunk) != s[:len(chunk)] {
			return false
		}
		s, i = s[len(chunk):], n
	}
	return s == ""
}

// RawString returns the bytes between the quotes when b[vStart:vEnd] is a
// JSON string, as reported by SkipValue or ObjectEach. The bytes may hold
// escapes; compare them with KeyIs.
func RawString(b []byte, vStart, vEnd int) ([]byte, bool) {
	if vStart < 0 || vEnd > len(b) || vEnd-vStart < 2 || b[vStart] != '"' || b[vEnd-1] != '"' {
		return nil, false
	}
	return b[vStart+1 : vEnd-1], true
}

// StringValue returns the decoded string when b[vStart:vEnd] is a valid JSON
// string.
func StringValue(b []byte, vStart, vEnd int) (string, bool) {
	if vStart < 0 || vStart >= len(b) || b[vStart] != '"' {
		return "", false
	}
	end, esc, err := scanString(b, vStart)
	if err != nil || end != vEnd {
		return "", false
	}
	raw := b[vStart+1 : vEnd-1]
	if !esc {
		return string(raw), true
	}
	s, ok := appendUnquoted(make([]byte, 0, len(raw)), raw)
	return string(s), ok
}

// appendUnquoted appends the decoded form of raw, the contents of a JSON
// string, to dst. Lone surrogates decode to U+FFFD, as in encoding/json.
func appendUnquoted(dst, raw []byte) ([]byte, bool) {
	var buf [utf8.UTFMax]byte
	for i := 0; i < len(raw); {
		chunk, n := decodeOne(raw, i, &buf)
		if n == 0 {
			return dst, false
		}
		dst, i = append(dst, chunk...), n
	}
	return dst, true
}

// decodeOne decodes raw[i:] up to the next escape, or the escape at i, and
// returns the decoded bytes and the index after them (0 if raw is invalid).
// The result aliases raw or buf.
func decodeOne(raw []byte, i int, buf *[utf8.UTFMax]byte) ([]byte, int) {
	if raw[i] != '\\' {
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			return raw[i:], len(raw)
		}
		return raw[i : i+j], i + j
	}
	if i+1 >= len(raw) {
		return nil, 0
	}
	if c := unescapeByte(raw[i+1]); c != 0 {
		buf[0] = c
		return buf[:1], i + 2
	}
	r, n := decodeU(raw, i)
	if n == 0 {
		return nil, 0
	}
	return buf[:utf8.EncodeRune(buf[:], r)], n
}

// unescapeByte maps the character after a backslash to the byte it stands
// for, or 0 if it is not a one-character escape.
func unescapeByte(c byte) byte {
	switch c {
	case '"', '\\', '/':
		return c
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return 0
}

// decodeU decodes the \uXXXX escape at raw[i], joining a surrogate pair, and
// returns the rune and the index after the escape(s) (0 if invalid).
func decodeU(raw []byte, i int) (rune, int) {
	if i+6 > len(raw) || raw[i+1] != 'u' {
		return 0, 0
	}
	r, ok := hex4(raw[i+2 : i+6])
	if !ok {
		return 0, 0
	}
	if !utf16.IsSurrogate(r) {
		return r, i + 6
	}
	if i+12 <= len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
		if r2, ok := hex4(raw[i+8 : i+12]); ok {
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, i + 12
			}
		}
	}
	return utf8.RuneError, i + 6
}

const hexDigits = "0123456789abcdef"

// AppendString appends s to dst as a JSON string: quoted, with quotes,
// backslashes and control characters escaped, and invalid UTF-8 replaced by
// U+FFFD so that the result is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			dst = appendEscaped(append(dst, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(append(dst, s[start:i]...), `\ufffd`...)
			start = i + size
		}
		i += size
	}
	return append(append(dst, s[start:]...), '"')
}

// appendEscaped appends the escape sequence for the ASCII byte c.
func appendEscaped(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
