package synth

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// field is one member of a JSON object, kept in the order it was added.
type field struct {
	k string
	v any
}

// obj is a JSON object whose members are written in declaration order, so
// that generated resources follow FHIR element order and are byte-stable.
type obj []field

// arr is a JSON array.
type arr []any

// num is a JSON number written exactly as given, so that a decimal such as
// 60.40 keeps its trailing zero the way real FHIR servers send it.
type num string

// encode returns the compact JSON text of v.
func encode(v any) []byte {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.Bytes()
}

// writeJSON appends the compact JSON text of v to b. It supports the small
// set of types the generator builds resources from and panics on anything
// else, which is a programming error caught by the package tests.
func writeJSON(b *bytes.Buffer, v any) {
	switch t := v.(type) {
	case obj:
		writeObj(b, t)
	case arr:
		writeArr(b, t)
	case string:
		writeString(b, t)
	case num:
		b.WriteString(string(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case []byte:
		b.Write(t)
	default:
		panic("synth: unsupported JSON value type")
	}
}

func writeObj(b *bytes.Buffer, o obj) {
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, f.k)
		b.WriteByte(':')
		writeJSON(b, f.v)
	}
	b.WriteByte('}')
}

func writeArr(b *bytes.Buffer, a arr) {
	b.WriteByte('[')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSON(b, v)
	}
	b.WriteByte(']')
}

// writeString writes s as a JSON string. Unlike encoding/json it does not
// escape <, > and &, so XHTML narrative reads as FHIR servers emit it.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			writeEscaped(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

func writeEscaped(b *bytes.Buffer, c byte) {
	switch c {
	case '"', '\\':
		b.WriteByte('\\')
		b.WriteByte(c)
	case '\n':
		b.WriteString(`\n`)
	case '\r':
		b.WriteString(`\r`)
	case '\t':
		b.WriteString(`\t`)
	default:
		const hex = "0123456789abcdef"
		b.WriteString(`\u00`)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
}
