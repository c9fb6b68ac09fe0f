package fhirmem

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// bundle is a Bundle to encode; resources are embedded as stored bytes.
type bundle struct {
	kind    string // searchset or history
	total   int
	links   []link
	entries []entry
}

type link struct{ relation, url string }

// entry is one Bundle entry: either a search entry (mode) or a history
// entry (method, status, etag).
type entry struct {
	fullURL  string
	resource []byte
	mode     string
	url      string // request.url of a history entry
	method   string
	status   string
	etag     string
}

func historyEntry(fullURL, url string, body []byte, version int) entry {
	method, status := "PUT", "200 OK"
	if version == 1 {
		status = "201 Created"
	}
	return entry{fullURL: fullURL, resource: body, url: url, method: method, status: status, etag: etag(version)}
}

// encode returns the Bundle's compact JSON.
func (b bundle) encode() []byte {
	size := 256
	for _, e := range b.entries {
		size += len(e.resource) + len(e.fullURL) + 64
	}
	var w bytes.Buffer
	w.Grow(size)
	w.WriteString(`{"resourceType":"Bundle","type":`)
	writeString(&w, b.kind)
	w.WriteString(`,"total":`)
	w.WriteString(strconv.Itoa(b.total))
	w.WriteString(`,"link":[`)
	for i, l := range b.links {
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString(`{"relation":`)
		writeString(&w, l.relation)
		w.WriteString(`,"url":`)
		writeString(&w, l.url)
		w.WriteByte('}')
	}
	w.WriteByte(']')
	if len(b.entries) > 0 {
		w.WriteString(`,"entry":[`)
		for i, e := range b.entries {
			if i > 0 {
				w.WriteByte(',')
			}
			e.encode(&w)
		}
		w.WriteByte(']')
	}
	w.WriteByte('}')
	return w.Bytes()
}

func (e entry) encode(w *bytes.Buffer) {
	w.WriteString(`{"fullUrl":`)
	writeString(w, e.fullURL)
	w.WriteString(`,"resource":`)
	w.Write(e.resource)
	if e.mode != "" {
		w.WriteString(`,"search":{"mode":`)
		writeString(w, e.mode)
		w.WriteByte('}')
	}
	if e.method != "" {
		w.WriteString(`,"request":{"method":`)
		writeString(w, e.method)
		w.WriteString(`,"url":`)
		writeString(w, e.url)
		w.WriteString(`},"response":{"status":`)
		writeString(w, e.status)
		w.WriteString(`,"etag":`)
		writeString(w, e.etag)
		w.WriteByte('}')
	}
	w.WriteByte('}')
}

// writeString writes s as a JSON string without HTML escaping, so URLs keep
// their & and read as the server sent them.
func writeString(w *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	w.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.WriteByte('\\')
			w.WriteByte(c)
			i++
		case c < 0x20:
			w.WriteString(`\u00`)
			w.WriteByte(hex[c>>4])
			w.WriteByte(hex[c&0xf])
			i++
		case c < utf8.RuneSelf:
			w.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				w.WriteString(`\ufffd`)
			} else {
				w.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	w.WriteByte('"')
}
