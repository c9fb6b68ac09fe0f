package labels

import (
	"bytes"
	"encoding/base64"
	"slices"

	"github.com/ds4p/ds4p/internal/fjson"
)

// Attachments. An Attachment's data is base64 the labeller cannot read as
// JSON, so a clinical document in it (a C-CDA progress note in a
// DocumentReference whose own type is no sensitive code, a report's
// presentedForm) went out as ordinary whatever it recorded: a substance
// use disorder diagnosis coded in the document's entries labelled nothing.
// When the attachment's contentType says XML (text/xml, application/xml,
// or any +xml type: application/hl7-v3+xml, application/cda+xml ...), the
// labeller decodes the data and matches every code and codeSystem pair of
// its tags (CDA's code, value, translation ...; the system an OID) against
// the rules, as codings at the attachment. Other content (a PDF, an image,
// plain text) carries no coded data the labeller could read, and data that
// does not decode is no document.

// maxAttachmentBytes bounds the base64 data the labeller decodes (the
// proxy's body limit bounds it before that).
const maxAttachmentBytes = 64 << 20

// xmlContentType reports whether the media type ct (parameters and case
// aside) is XML.
func xmlContentType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return bytes.EqualFold(ct, []byte("text/xml")) || bytes.EqualFold(ct, []byte("application/xml")) ||
		len(ct) > 4 && bytes.EqualFold(ct[len(ct)-4:], []byte("+xml"))
}

// attachmentCodes matches the codes of the XML document in the data of
// the Attachment c (see above) at the current path.
func (w *walker) attachmentCodes(c *coding) {
	ct := w.decoded(c.contentType)
	isXML, isJSON := xmlContentType(ct), jsonContentType(ct)
	if !isXML && !isJSON {
		return
	}
	data := w.decoded(c.data)
	if len(data) == 0 || len(data) > maxAttachmentBytes {
		return
	}
	doc := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
	n, err := base64.StdEncoding.Decode(doc, data)
	if err != nil {
		return
	}
	match := func(system, code []byte) {
		w.matchCode(system, code) // an OID: codeSystem reads it
	}
	if isJSON {
		// A FHIR JSON document or resource (QA round 31, area C): every
		// coding in it, at any depth, and the type of every resource in
		// it that a type rule labels (a MolecularSequence: derive).
		jsonCodes(doc[:n], 0, 0, match, func(typ string) {
			if len(w.rs.byType[typ]) > 0 && !slices.Contains(w.attachedTypes, typ) {
				w.attachedTypes = append(w.attachedTypes, typ)
			}
		})
		return
	}
	xmlCodes(doc[:n], match)
}

// jsonContentType reports whether the media type ct (parameters and case
// aside) is JSON: application/json, application/fhir+json, any +json.
func jsonContentType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return bytes.EqualFold(ct, []byte("application/json")) || bytes.EqualFold(ct, []byte("text/json")) ||
		len(ct) > 5 && bytes.EqualFold(ct[len(ct)-5:], []byte("+json"))
}

// jsonCodes calls fn with the system and code strings of every object of
// the JSON value at doc[i] that has both (a Coding), and typ with the
// resourceType of every object that has one, at any depth up to a bound;
// a document that does not parse gives what was read before.
func jsonCodes(doc []byte, i, depth int, fn func(system, code []byte), typ func(string)) {
	if depth > 64 || i >= len(doc) {
		return
	}
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	if i >= len(doc) {
		return
	}
	switch doc[i] {
	case '{':
		var system, code string
		_ = fjson.ObjectEach(doc, i, func(key []byte, vs, ve int) error {
			switch {
			case doc[vs] == '"' && fjson.KeyIs(key, "system"):
				system, _ = fjson.StringValue(doc, vs, ve)
			case doc[vs] == '"' && fjson.KeyIs(key, "code"):
				code, _ = fjson.StringValue(doc, vs, ve)
			case doc[vs] == '"' && fjson.KeyIs(key, "resourceType"):
				if t, ok := fjson.StringValue(doc, vs, ve); ok {
					typ(t)
				}
			case doc[vs] == '{' || doc[vs] == '[':
				jsonCodes(doc, vs, depth+1, fn, typ)
			}
			return nil
		})
		if system != "" && code != "" {
			fn([]byte(system), []byte(code))
		}
	case '[':
		_ = fjson.ArrayEach(doc, i, func(vs, ve int) error {
			jsonCodes(doc, vs, depth+1, fn, typ)
			return nil
		})
	}
}

// binaryCodes is attachmentCodes for a Binary resource, the object at
// w.b[i], whose contentType and data are its own members.
func (w *walker) binaryCodes(i int) {
	var c coding
	if s, e, ok, err := fjson.Lookup(w.b, i, "contentType"); ok && err == nil {
		c.contentType, c.ctStr = field{start: s, end: e, seen: true}, w.b[s] == '"'
	}
	if s, e, ok, err := fjson.Lookup(w.b, i, "data"); ok && err == nil {
		c.data, c.dataStr = field{start: s, end: e, seen: true}, w.b[s] == '"'
	}
	if c.ctStr && c.dataStr {
		w.attachmentCodes(&c)
	}
}

// xmlCodes calls fn with the codeSystem and code attribute values of each
// tag of doc that has both. Entities and character references in them are
// left as written (no OID or code of the systems the rules name holds
// one). Comments, processing instructions and CDATA sections are skipped.
func xmlCodes(doc []byte, fn func(system, code []byte)) {
	for i := 0; i < len(doc); {
		lt := bytes.IndexByte(doc[i:], '<')
		if lt < 0 {
			return
		}
		i += lt + 1
		switch {
		case bytes.HasPrefix(doc[i:], []byte("!--")):
			i = skipPast(doc, i, "-->")
			continue
		case bytes.HasPrefix(doc[i:], []byte("![CDATA[")):
			i = skipPast(doc, i, "]]>")
			continue
		case i < len(doc) && (doc[i] == '?' || doc[i] == '!' || doc[i] == '/'):
			continue
		}
		end := tagEnd(doc, i)
		var system, code []byte
		eachAttribute(doc[i:end], func(name, value []byte) {
			switch string(name) {
			case "code":
				code = value
			case "codeSystem":
				system = value
			}
		})
		if system = bytes.TrimSpace(system); len(system) > 0 && len(code) > 0 {
			fn(system, code)
		}
		i = end
	}
}

// skipPast returns the index just past the first sep at or after i, or
// len(doc).
func skipPast(doc []byte, i int, sep string) int {
	if k := bytes.Index(doc[i:], []byte(sep)); k >= 0 {
		return i + k + len(sep)
	}
	return len(doc)
}

// tagEnd returns the index of the '>' that ends the tag starting at i (a
// '>' inside a quoted attribute value does not), or len(doc).
func tagEnd(doc []byte, i int) int {
	var quote byte
	for ; i < len(doc); i++ {
		switch c := doc[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i
		}
	}
	return len(doc)
}

// eachAttribute calls fn with the local name (any prefix removed) and the
// quoted value of each attribute of the tag body t (the element name
// first, then name="value" pairs).
func eachAttribute(t []byte, fn func(name, value []byte)) {
	i := bytes.IndexAny(t, " \t\r\n")
	if i < 0 {
		return
	}
	for i < len(t) {
		for i < len(t) && isXMLSpace(t[i]) {
			i++
		}
		eq := bytes.IndexByte(t[i:], '=')
		if eq < 0 {
			return
		}
		name := bytes.TrimSpace(t[i : i+eq])
		if c := bytes.LastIndexByte(name, ':'); c >= 0 {
			name = name[c+1:]
		}
		j := i + eq + 1
		for j < len(t) && isXMLSpace(t[j]) {
			j++
		}
		if j >= len(t) || (t[j] != '"' && t[j] != '\'') {
			return
		}
		q := bytes.IndexByte(t[j+1:], t[j])
		if q < 0 {
			return
		}
		fn(name, t[j+1:j+1+q])
		i = j + 1 + q + 1
	}
}

// isXMLSpace reports whether c is XML white space.
func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
