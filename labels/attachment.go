package labels

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

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
		bytes.EqualFold(ct, []byte("application/xml+fhir")) || // FHIR DSTU2 and STU3's
		len(ct) > 4 && bytes.EqualFold(ct[len(ct)-4:], []byte("+xml"))
}

// attachmentCodes matches the codes of the XML or JSON document in the
// data of the Attachment c (see above) at the current path.
func (w *walker) attachmentCodes(c *coding) {
	w.attachedDocument(w.decoded(c.contentType), w.decoded(c.data))
}

// dataURLCodes is attachmentCodes for an Attachment without data whose url
// is a data: URL (RFC 2397), the document inline in it: FHIR's url is any
// uri, and a viewer opens it as it opens data, but it was not read (QA
// round 33, area D): a C-CDA coded F11.20 went out as ordinary.
func (w *walker) dataURLCodes(c *coding) {
	u := w.decoded(c.url)
	if len(u) < 5 || !bytes.EqualFold(u[:5], []byte("data:")) {
		return
	}
	comma := bytes.IndexByte(u, ',')
	if comma < 0 {
		return
	}
	ct, data := u[5:comma], u[comma+1:]
	if n := len(";base64"); len(ct) >= n && bytes.EqualFold(ct[len(ct)-n:], []byte(";base64")) {
		ct = ct[:len(ct)-n]
	} else { // percent-encoded text
		data = base64.StdEncoding.AppendEncode(nil, percentDecode(data))
	}
	if len(bytes.TrimSpace(ct)) == 0 && c.ctStr {
		ct = w.decoded(c.contentType)
	}
	w.attachedDocument(ct, data)
}

// percentDecode decodes the %XX escapes of b and leaves a '%' that
// begins none as written, as a browser's URL parser does (WHATWG URL,
// percent-decode): url.PathUnescape failed on a C-CDA's "50% better"
// written raw, and the document in the data: URL went unread (QA round
// 33, area F).
func percentDecode(b []byte) []byte {
	if bytes.IndexByte(b, '%') < 0 {
		return b
	}
	unhex := func(c byte) (byte, bool) {
		switch {
		case c >= '0' && c <= '9':
			return c - '0', true
		case c >= 'a' && c <= 'f':
			return c - 'a' + 10, true
		case c >= 'A' && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) {
			if h, ok := unhex(b[i+1]); ok {
				if l, ok := unhex(b[i+2]); ok {
					out = append(out, h<<4|l)
					i += 2
					continue
				}
			}
		}
		out = append(out, b[i])
	}
	return out
}

// attachedDocument matches the codes of the document of media type ct
// whose base64 is data.
func (w *walker) attachedDocument(ct, data []byte) {
	match := func(system, code []byte) {
		w.matchCode(system, code) // an OID: codeSystem reads it
		w.attachedLabel(system, code)
	}
	// A FHIR JSON document or resource (QA round 31, area C): every coding
	// in it, at any depth, and the type of every resource in it that a
	// type rule labels (a MolecularSequence: derive).
	typ := func(typ string) {
		if len(w.rs.byType[typ]) > 0 && !slices.Contains(w.attachedTypes, typ) {
			w.attachedTypes = append(w.attachedTypes, typ)
		}
	}
	// A reference or identifier naming a Part 2 program anywhere in the
	// document (its author, custodian, a managing organization): the
	// program's document, as a source member naming it makes a record the
	// program's (QA round 32, area A). A DocumentReference of an ordinary
	// hospital holding the program's discharge summary went to org-b whole.
	prog := func(ref, system, value []byte) {
		if w.program != "" || w.rs.programs.empty() {
			return
		}
		p, matched := "", ""
		if len(ref) > 0 {
			if p = w.rs.programs.byReference(ref); p != "" {
				matched = string(ref)
			}
		}
		if p == "" && len(system) > 0 && len(value) > 0 {
			if p = w.rs.programs.byIdentifier(system, value); p != "" {
				matched = string(system) + "|" + string(value)
			}
		}
		if p != "" {
			w.program, w.programMatch, w.programPath = p, matched, w.pathString()
		}
	}
	// What archives inflate is bounded by the size of the resource's
	// attachments (32 times: documents compress about tenfold), all of
	// them together, plus 64 KiB once, so that a few stored bytes of a
	// gzip bomb cost no more than what a sender stores: 64 KiB for each
	// attachment let a resource of a thousand 140-byte gzips inflate 64
	// MiB (QA round 33, area F). Each attachment adds its own share, so
	// one bomb leaves the next attachment what it brings. (w.b is the
	// rest of a search body under Batch.AddChecked, not the resource: its
	// length bounds nothing.)
	if w.inflateLimit == 0 {
		w.inflateLimit = 64 << 10
	}
	w.inflateLimit = min(maxInflatedBytes, w.inflateLimit+32*len(data))
	sink := &attachedSink{code: match, typ: typ, program: prog, inflated: w.inflated, inflateLimit: w.inflateLimit}
	attachedCodes(ct, data, 0, sink)
	w.inflated = sink.inflated
}

// attachedLabel keeps a confidentiality or v3-ActCode security label
// the attached document carries of its own as a label of the resource
// (documentLabels): a C-CDA's confidentialityCode or a DS4P CDA security
// observation's code, or an attached FHIR resource's meta.security,
// securityLabel or confidentiality. Read as any other coding, they matched
// no rule, and a document its sender marked R or V (a psychotherapy note
// in narrative alone) went out as ordinary data (QA round 32, area D).
// Its system is read as a resource's own meta.security is (labelCode): a
// label spelt under v3-ActReason or v3-ObservationValue (42CFRPart2 as
// older senders file it) is the v3-ActCode label it names; left out, a
// Part 2 document attached so went to org-b (QA round 36, area E).
func (w *walker) attachedLabel(system, code []byte) {
	s := NormalizeSystem(string(bytes.TrimSpace(system)))
	switch s {
	case SystemConfidentiality, SystemActCode, SystemActReason, SystemObservationValue:
	default:
		return
	}
	s, c := labelCode(s, string(bytes.TrimSpace(code)))
	if lb := (Label{System: s, Code: c}); (lb.System == SystemConfidentiality || lb.System == SystemActCode) && KnownCode(lb.System, lb.Code) {
		w.docLabels = append(w.docLabels, docLabel{label: lb, path: w.pathString(), attached: true})
	}
}

// attachedSink receives what an attachment's document holds: each coding,
// the type of each resource, and each reference and identifier (a
// program's).
type attachedSink struct {
	code    func(system, code []byte)
	typ     func(string)
	program func(ref, system, value []byte)
	// inflated counts the bytes inflated from archives (archivedCodes)
	// in the attachment and the documents and attachments within it, up
	// to inflateLimit.
	inflated, inflateLimit int
}

// attachedCodes reads the base64 data of an attachment whose contentType
// is ct (nil when it has none) for codes: as XML when ct says XML, as JSON
// when ct says JSON, and when it says nothing of the data (none, text/*,
// application/octet-stream) as what the data's first bytes are (a '<',
// or a '{' or '[', after a byte order mark and white space): an
// attachment without a contentType, or one whose contentType is
// text/plain, held a FHIR JSON Condition or a C-CDA and went out as
// ordinary (QA round 32, area A). The data is decoded as FHIR's
// base64Binary allows (white space anywhere) and as senders write it
// (without padding, or base64url); UTF-16 (its byte order mark) is read as
// UTF-8. An attachment in the JSON (a Binary or a DocumentReference in a
// document Bundle) is read the same way, depth counting on.
func attachedCodes(ct, data []byte, depth int, sink *attachedSink) {
	if len(data) == 0 || len(data) > maxAttachmentBytes || depth > 64 {
		return
	}
	isXML, isJSON := xmlContentType(ct), jsonContentType(ct)
	archive := archiveContentType(ct)
	if !isXML && !isJSON && !archive && !sniffed(ct) {
		return
	}
	var doc []byte
	if !isXML && !isJSON {
		head, ok := decodeBase64(prefixOf(data, 16))
		if !ok {
			return
		}
		if isArchive(head) {
			if doc, ok = decodeBase64(data); ok {
				archivedCodes(doc, depth, sink)
			}
			return
		}
		if archive {
			return
		}
		if head = textOf(head); len(head) < 8 && (len(head) == 0 || head[0] != '<' && head[0] != '{' && head[0] != '[') {
			// White space alone so far, or too little to tell an HL7 v2
			// message by (8 bytes): the document may begin further on
			// (QA round 33, area D: 16 blank lines before a Condition
			// left it unread; area F: 5 blank lines, a byte order mark
			// and a blank line, or UTF-16 hid an HL7 v2 message).
			if doc, ok = decodeBase64(data); !ok {
				return
			}
			doc = textOf(doc)
			head = doc
		}
		switch {
		case len(head) > 0 && head[0] == '<':
			isXML = true
		case len(head) > 0 && (head[0] == '{' || head[0] == '['):
			isJSON = true
		case isV2(head):
			if doc == nil {
				if doc, ok = decodeBase64(data); !ok {
					return
				}
			}
			v2Codes(textOf(doc), sink.code)
			v2Programs(textOf(doc), sink.program)
			return
		default:
			return
		}
	}
	if doc == nil {
		var ok bool
		if doc, ok = decodeBase64(data); !ok {
			return
		}
		doc = textOf(doc)
	}
	if isJSON {
		jsonCodes(doc, 0, depth, sink)
		return
	}
	xmlCodesWith(doc, sink.code, sink.program)
}

// maxInflatedBytes bounds what the labeller inflates of one attachment's
// archives, all their documents, nested archives and attachments in them
// together (an archive of documents each holding a gzip bomb inflates
// no more than one).
const maxInflatedBytes = 16 << 20

// archiveContentType reports whether the media type ct is gzip or zip.
func archiveContentType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	for _, t := range []string{"application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed"} {
		if bytes.EqualFold(ct, []byte(t)) {
			return true
		}
	}
	return false
}

// gzipReaders holds *gzip.Reader for archivedCodes to reuse.
var gzipReaders sync.Pool

// emptyGzip is a gzip stream of nothing, which a pooled reader is reset
// to.
var emptyGzip = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}

// isArchive reports whether b begins as gzip or a zip file does.
func isArchive(b []byte) bool {
	return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b || len(b) >= 4 && string(b[:4]) == "PK\x03\x04"
}

// archivedCodes reads the documents of the gzip or zip archive doc (an
// IHE XDM package's C-CDA, a gzipped FHIR Bundle) as attachments without
// a contentType: their first bytes say what they are (QA round 33, area
// D: a gzipped or zipped C-CDA coded F11.20 went out as ordinary). At most
// budget bytes are inflated; a document cut there is read as far as it
// was inflated.
func archivedCodes(doc []byte, depth int, sink *attachedSink) {
	if depth > 64 || sink.inflated >= sink.inflateLimit {
		return
	}
	read := func(r io.Reader) {
		r = io.LimitReader(r, int64(sink.inflateLimit-sink.inflated))
		// The first bytes tell whether the member is a document the
		// labeller reads; one it does not (a scanned PDF, an image) is
		// not inflated further: read whole, a large PDF before an XDM
		// package's C-CDA spent the budget and the C-CDA went out
		// unread (QA round 33, area F).
		head := make([]byte, 512)
		n, _ := io.ReadFull(r, head)
		head = head[:n]
		if t := textOf(head); !isArchive(head) && len(t) >= 8 && t[0] != '<' && t[0] != '{' && t[0] != '[' && !isV2(t) {
			sink.inflated += n
			return
		}
		b, _ := io.ReadAll(io.MultiReader(bytes.NewReader(head), r))
		sink.inflated += len(b)
		if isArchive(b) {
			archivedCodes(b, depth+1, sink)
			return
		}
		b = textOf(b)
		switch {
		case len(b) > 0 && b[0] == '<':
			xmlCodesWith(b, sink.code, sink.program)
		case len(b) > 0 && (b[0] == '{' || b[0] == '['):
			jsonCodes(b, 0, depth+1, sink)
		case isV2(b):
			v2Codes(b, sink.code)
			v2Programs(b, sink.program)
		}
	}
	if doc[0] == 0x1f {
		// Gzip readers are reused: a new one (its 32 KiB window and
		// tables) for each of a thousand small gzips allocated 40 MB
		// (QA round 33, area F). A nested stream takes another.
		zr, _ := gzipReaders.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(bytes.NewReader(doc))
		} else {
			err = zr.Reset(bytes.NewReader(doc))
		}
		if err == nil {
			read(zr)
		}
		if zr != nil && zr.Reset(bytes.NewReader(emptyGzip)) == nil { // holding no document
			gzipReaders.Put(zr)
		}
		return
	}
	zr, err := zip.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return
	}
	for i, f := range zr.File {
		if i >= 1024 || sink.inflated >= sink.inflateLimit {
			return
		}
		if rc, err := f.Open(); err == nil {
			read(rc)
			rc.Close()
		}
	}
}

// sniffed reports whether an attachment whose media type is ct, neither
// XML nor JSON, is read as its data's first bytes say: ct is absent, text
// of any kind or application/octet-stream. A PDF's or an image's data is
// not read.
func sniffed(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return len(ct) == 0 || len(ct) >= 5 && bytes.EqualFold(ct[:5], []byte("text/")) ||
		bytes.EqualFold(ct, []byte("application/octet-stream")) || hl7Type(ct)
}

// hl7Type reports whether the media type ct names HL7 (application/hl7-v2,
// x-application/hl7-v2+er7, application/hl7-v2+er7, application/x-hl7,
// application/x-hl7-v2 ... senders spell it many ways; an XML one was
// taken as XML before): the data is sniffed, and read as HL7 v2 only when
// it begins as a v2 message does. application/hl7-v2+er7, which OpenMRS's
// and other v2 endpoints use, left a message coded F11.20 unread (QA
// round 33, area F).
func hl7Type(ct []byte) bool {
	for i := 0; i+3 <= len(ct); i++ {
		if bytes.EqualFold(ct[i:i+3], []byte("hl7")) {
			return true
		}
	}
	return false
}

// isV2 reports whether b begins as an HL7 version 2 message (or a batch
// of them) does: MSH, FHS or BHS, then the field separator.
func isV2(b []byte) bool {
	return len(b) >= 8 && (string(b[:3]) == "MSH" || string(b[:3]) == "FHS" || string(b[:3]) == "BHS") && b[3] > ' ' && b[3] < 0x7f
}

// v2Systems are the HL7 table 0396 names of the coding systems the rules
// name.
var v2Systems = map[string]string{
	"I10": "http://hl7.org/fhir/sid/icd-10", "I10C": "http://hl7.org/fhir/sid/icd-10-cm", "ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm",
	"I9C": "http://hl7.org/fhir/sid/icd-9-cm", "I9CDX": "http://hl7.org/fhir/sid/icd-9-cm", "I9": "http://hl7.org/fhir/sid/icd-9-cm",
	"SCT": "http://snomed.info/sct", "SNM": "http://snomed.info/sct", "LN": "http://loinc.org",
	"RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm", "CPT4": "http://www.ama-assn.org/go/cpt", "C4": "http://www.ama-assn.org/go/cpt",
	"HCPCS": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "HCPT": "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
	"NDC": "http://hl7.org/fhir/sid/ndc", "ATC": "http://www.whocc.no/atc",
}

// v2Codes calls fn with each coded element's code and system of the HL7
// version 2 message doc: a CWE, CE or CNE field's identifier (component
// 1) and coding system (3), and its alternate (4 and 6), the system by
// its table 0396 name. An ORU's OBX or a DG1 coded F11.20 in a v2 message
// attached as text went out as ordinary (QA round 33, area D).
func v2Codes(doc []byte, fn func(system, code []byte)) {
	if len(doc) < 8 {
		return
	}
	fs, cs, rs := doc[3], doc[4], doc[5]
	for _, seg := range bytes.FieldsFunc(doc, func(r rune) bool { return r == '\r' || r == '\n' }) {
		for _, field := range bytes.Split(seg, []byte{fs}) {
			if bytes.IndexByte(field, cs) < 0 {
				continue
			}
			for _, rep := range bytes.Split(field, []byte{rs}) {
				c := bytes.Split(rep, []byte{cs})
				// The identifier and its coding system: components 1
				// and 3, the alternate's 4 and 6, the second
				// alternate's 10 and 12 (v2.6 on); a system named by its
				// OID alone in 14, 17 or 20 (v2.7 on) is read as an OID
				// (QA round 33, area F).
				for n, k := range []int{0, 3, 9} {
					if k >= len(c) || len(bytes.TrimSpace(c[k])) == 0 {
						continue
					}
					if k+2 < len(c) {
						if sys, ok := v2Systems[string(bytes.ToUpper(bytes.TrimSpace(c[k+2])))]; ok {
							fn([]byte(sys), bytes.TrimSpace(c[k]))
							continue
						}
					}
					if o := 13 + 3*n; o < len(c) && len(bytes.TrimSpace(c[o])) > 0 {
						fn(bytes.TrimSpace(c[o]), bytes.TrimSpace(c[k]))
					}
				}
			}
		}
	}
}

// v2Programs calls program with the NPI's system and each component or
// subcomponent of the HL7 version 2 message doc that is ten digits, as an
// NPI is written in v2: the sending facility (MSH-4, an HD's universal
// ID), an ordering facility or provider (ORC-21's XON.10 or ORC-12's
// XCN.1, with NPI as identifier type), an assigned location's facility
// (PV1-3, a PL's HD). A lab's ORU whose sending facility was a Part 2
// program went out as ordinary data, as no coded field names the program
// (QA round 34, area C). Only a configured program's NPI matches.
func v2Programs(doc []byte, program func(ref, system, value []byte)) {
	if len(doc) < 8 || program == nil {
		return
	}
	fs, cs, rs, ss := doc[3], doc[4], doc[5], doc[7]
	npi := []byte("http://hl7.org/fhir/sid/us-npi")
	for _, seg := range bytes.FieldsFunc(doc, func(r rune) bool { return r == '\r' || r == '\n' }) {
		for k := 0; k < len(seg); {
			end := k
			for end < len(seg) && seg[end] != fs && seg[end] != cs && seg[end] != rs && seg[end] != ss {
				end++
			}
			if v := bytes.TrimSpace(seg[k:end]); len(v) == 10 && allDigits(v) {
				program(nil, npi, v)
			}
			k = end + 1
		}
	}
}

// prefixOf returns the first n base64 characters of data, white space
// left out, n a multiple of 4.
func prefixOf(data []byte, n int) []byte {
	out := make([]byte, 0, n)
	for _, c := range data {
		if len(out) == n {
			break
		}
		if !isBase64Space(c) && c != '=' {
			out = append(out, c)
		}
	}
	return out[:len(out)/4*4]
}

func isBase64Space(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' }

// decodeBase64 decodes data as base64 with or without padding, white
// space anywhere, in the standard or the URL alphabet or both mixed (as
// Node's Buffer and other lenient decoders read it: QA round 33, area D).
func decodeBase64(data []byte) ([]byte, bool) {
	clean := data
	if bytes.ContainsAny(data, " \t\r\n\f-_") {
		clean = make([]byte, 0, len(data))
		for _, c := range data {
			switch {
			case isBase64Space(c):
			case c == '-':
				clean = append(clean, '+')
			case c == '_':
				clean = append(clean, '/')
			default:
				clean = append(clean, c)
			}
		}
	}
	clean = bytes.TrimRight(clean, "=")
	enc := base64.RawStdEncoding
	doc := make([]byte, enc.DecodedLen(len(clean)))
	n, err := enc.Decode(doc, clean)
	return doc[:n], err == nil
}

// textOf returns doc as UTF-8 without a byte order mark or leading white
// space: UTF-16 and UTF-32, told by their mark or, without one, by the
// zero bytes around an ASCII first character (as XML's Appendix F and RFC
// 4627 detect them; QA round 33, area D: a C-CDA in UTF-16 without a mark
// went unread), are transcoded.
func textOf(doc []byte) []byte {
	if len(doc) >= 4 && (doc[0] == 0xff && doc[1] == 0xfe && doc[2] == 0 && doc[3] == 0 || doc[0] == 0 && doc[1] == 0 && doc[2] == 0xfe && doc[3] == 0xff ||
		doc[0] != 0 && doc[1] == 0 && doc[2] == 0 && doc[3] == 0 || doc[0] == 0 && doc[1] == 0 && doc[2] == 0 && doc[3] != 0) {
		be := doc[0] == 0
		out := make([]byte, 0, len(doc)/4)
		for i := 0; i+3 < len(doc); i += 4 {
			r := rune(doc[i]) | rune(doc[i+1])<<8 | rune(doc[i+2])<<16 | rune(doc[i+3])<<24
			if be {
				r = rune(doc[i+3]) | rune(doc[i+2])<<8 | rune(doc[i+1])<<16 | rune(doc[i])<<24
			}
			if r != 0xfeff {
				out = utf8.AppendRune(out, r)
			}
		}
		doc = out
	} else if len(doc) >= 2 && (doc[0] == 0xff && doc[1] == 0xfe || doc[0] == 0xfe && doc[1] == 0xff || doc[0] != 0 && doc[1] == 0 || doc[0] == 0 && doc[1] != 0) {
		be := doc[0] == 0xfe || doc[0] == 0
		start := 2
		if doc[0] != 0 && doc[1] == 0 || doc[0] == 0 && doc[1] != 0 {
			start = 0 // no mark
		}
		u := make([]uint16, 0, len(doc)/2)
		for i := start; i+1 < len(doc); i += 2 {
			if be {
				u = append(u, uint16(doc[i])<<8|uint16(doc[i+1]))
			} else {
				u = append(u, uint16(doc[i+1])<<8|uint16(doc[i]))
			}
		}
		doc = []byte(string(utf16.Decode(u)))
	}
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	// White space, and the MLLP start block (0x0B) an HL7 v2 message
	// captured from the wire keeps (QA round 33, area F).
	return bytes.TrimLeft(doc, " \t\r\n\v")
}

// jsonContentType reports whether the media type ct (parameters and case
// aside) is JSON: application/json, application/fhir+json, any +json.
func jsonContentType(ct []byte) bool {
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	return bytes.EqualFold(ct, []byte("application/json")) || bytes.EqualFold(ct, []byte("text/json")) ||
		bytes.EqualFold(ct, []byte("application/json+fhir")) || // FHIR DSTU2 and STU3's
		len(ct) > 5 && bytes.EqualFold(ct[len(ct)-5:], []byte("+json"))
}

// jsonCodes calls fn with the system and code strings of every object of
// the JSON value at doc[i] that has both (a Coding), and typ with the
// resourceType of every object that has one, at any depth up to a bound;
// a document that does not parse gives what was read before.
func jsonCodes(doc []byte, i, depth int, sink *attachedSink) {
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
		var system, code, ct, data, ref, value string
		_ = fjson.ObjectEach(doc, i, func(key []byte, vs, ve int) error {
			switch {
			case doc[vs] == '"' && fjson.KeyIs(key, "reference"):
				ref, _ = fjson.StringValue(doc, vs, ve)
			case doc[vs] == '"' && fjson.KeyIs(key, "value"):
				value, _ = fjson.StringValue(doc, vs, ve)
			case doc[vs] == '"' && fjson.KeyIs(key, "contentType"):
				ct, _ = fjson.StringValue(doc, vs, ve)
			case doc[vs] == '"' && fjson.KeyIs(key, "data"):
				data, _ = fjson.StringValue(doc, vs, ve)
			case doc[vs] == '"' && fjson.KeyIs(key, "system"):
				system, _ = fjson.StringValue(doc, vs, ve)
			case doc[vs] == '"' && fjson.KeyIs(key, "code"):
				code, _ = fjson.StringValue(doc, vs, ve)
			case (doc[vs] == '-' || doc[vs] >= '0' && doc[vs] <= '9') && fjson.KeyIs(key, "code"):
				// A code written as a JSON number: its digits, as the
				// walk reads one in the resource (a3bf0e7).
				code = string(numericCode(doc[vs:ve]))
			case (doc[vs] == '-' || doc[vs] >= '0' && doc[vs] <= '9') && fjson.KeyIs(key, "value"):
				value = string(numericCode(doc[vs:ve])) // an NPI written as a JSON number
			case doc[vs] == '"' && fjson.KeyIs(key, "confidentiality"):
				// A Composition's: a v3-Confidentiality code alone.
				if c, ok := fjson.StringValue(doc, vs, ve); ok {
					sink.code([]byte(SystemConfidentiality), []byte(c))
				}
			case doc[vs] == '"' && fjson.KeyIs(key, "resourceType"):
				if t, ok := fjson.StringValue(doc, vs, ve); ok {
					sink.typ(t)
				}
			case doc[vs] == '{' || doc[vs] == '[':
				jsonCodes(doc, vs, depth+1, sink)
			}
			return nil
		})
		if system != "" && code != "" {
			sink.code([]byte(system), []byte(code))
		}
		if ref != "" || system != "" && value != "" {
			sink.program([]byte(ref), []byte(system), []byte(value))
		}
		if data != "" {
			// An attachment or Binary in the document (QA round 32,
			// area A): a Binary holding a C-CDA in a document Bundle.
			attachedCodes([]byte(ct), []byte(data), depth+1, sink)
		}
	case '[':
		_ = fjson.ArrayEach(doc, i, func(vs, ve int) error {
			jsonCodes(doc, vs, depth+1, sink)
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
	if c.dataStr && (c.ctStr || !c.contentType.seen) {
		w.attachmentCodes(&c)
	}
}

// xmlCodes calls fn with the codeSystem and code attribute values of each
// tag of doc that has both (CDA), and with the value attributes of a
// system and a code element that are siblings (FHIR XML: a Coding's
// <system value=".."/><code value=".."/>, which an application/fhir+xml
// attachment holds; it was not read, QA round 32, area A). Entities and
// character references in them are left as written (no OID or code of the
// systems the rules name holds one). Comments, processing instructions and
// CDATA sections are skipped.
func xmlCodes(doc []byte, fn func(system, code []byte)) { xmlCodesWith(doc, fn, nil) }

// xmlCodesWith is xmlCodes; it also calls prog, when not nil, with each
// identifier (CDA's id root and extension, FHIR XML's sibling system and
// value) and each FHIR XML reference value.
func xmlCodesWith(doc []byte, fn func(system, code []byte), prog func(ref, system, value []byte)) {
	type pair struct{ system, code, value []byte }
	var siblings []pair // by depth: a FHIR XML coding's system and code
	depth := 0
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
		case i < len(doc) && doc[i] == '/':
			if depth < len(siblings) {
				siblings[depth] = pair{}
			}
			if depth > 0 {
				depth--
			}
			continue
		case i < len(doc) && (doc[i] == '?' || doc[i] == '!'):
			continue
		}
		end := tagEnd(doc, i)
		var system, code, value, root, extension []byte
		eachAttribute(doc[i:end], func(name, v []byte) {
			switch string(name) {
			case "code":
				code = v
			case "codeSystem":
				system = v
			case "value":
				value = v
			case "root":
				root = v
			case "extension":
				extension = v
			}
		})
		if prog != nil && len(root) > 0 && len(extension) > 0 {
			prog(nil, root, extension) // CDA: <id root="2.16.840.1.113883.4.6" extension="<NPI>"/>
		}
		if system = bytes.TrimSpace(system); len(system) > 0 && len(code) > 0 {
			fn(system, code)
		}
		name := doc[i:end]
		if k := bytes.IndexAny(name, " \t\r\n/"); k >= 0 {
			name = name[:k]
		}
		if k := bytes.LastIndexByte(name, ':'); k >= 0 {
			name = name[k+1:]
		}
		if value = bytes.TrimSpace(value); len(value) > 0 && prog != nil && string(name) == "reference" {
			prog(value, nil, nil) // FHIR XML: <reference value="Organization/x"/>
		}
		if value = bytes.TrimSpace(value); len(value) > 0 && depth < 4096 && (string(name) == "system" || string(name) == "code" || string(name) == "value") {
			for len(siblings) <= depth {
				siblings = append(siblings, pair{})
			}
			switch string(name) {
			case "system":
				siblings[depth].system = value
			case "code":
				siblings[depth].code = value
			default:
				siblings[depth].value = value
			}
			if p := siblings[depth]; len(p.system) > 0 && len(p.code) > 0 {
				fn(p.system, p.code)
				siblings[depth].code = nil
			}
			if p := siblings[depth]; prog != nil && len(p.system) > 0 && len(p.value) > 0 {
				prog(nil, p.system, p.value) // FHIR XML: an Identifier's system and value
				siblings[depth].value = nil
			}
		}
		if end > i && doc[end-1] != '/' {
			depth++
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
		fn(name, unescapeXML(t[j+1:j+1+q]))
		i = j + 1 + q + 1
	}
}

// isXMLSpace reports whether c is XML white space.
func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// unescapeXML returns v with XML's character references (&#70; &#x46;)
// and predefined entities decoded, as any XML reader gives the attribute:
// a code or an NPI spelled with them was not matched (QA round 32, area
// D's note; round 33, area D: code="&#x46;11.20" went out as ordinary).
// Other entities stay as written.
func unescapeXML(v []byte) []byte {
	amp := bytes.IndexByte(v, '&')
	if amp < 0 {
		return v
	}
	out := append(make([]byte, 0, len(v)), v[:amp]...)
	for i := amp; i < len(v); {
		semi := bytes.IndexByte(v[i:], ';')
		if v[i] != '&' || semi < 0 {
			out = append(out, v[i])
			i++
			continue
		}
		ent := string(v[i+1 : i+semi])
		r := rune(-1)
		switch {
		case ent == "lt":
			r = '<'
		case ent == "gt":
			r = '>'
		case ent == "amp":
			r = '&'
		case ent == "quot":
			r = '"'
		case ent == "apos":
			r = '\''
		case len(ent) > 2 && (ent[:2] == "#x" || ent[:2] == "#X"):
			if n, err := strconv.ParseUint(ent[2:], 16, 32); err == nil {
				r = rune(n)
			}
		case len(ent) > 1 && ent[0] == '#':
			if n, err := strconv.ParseUint(ent[1:], 10, 32); err == nil {
				r = rune(n)
			}
		}
		if r < 0 {
			out = append(out, v[i])
			i++
			continue
		}
		out = utf8.AppendRune(out, r)
		i += semi + 1
	}
	return out
}

// numericCode returns the code a JSON number written with a fraction or
// an exponent reads as (1.819e3 and 1819.0 are 1819 to JavaScript's and
// most readers' JSON: an RxNorm 1819 so written went out as ordinary, QA
// round 33, area D), and the digits of any other number as written.
func numericCode(raw []byte) []byte {
	if bytes.IndexAny(raw, ".eE") < 0 {
		return raw
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != f || f > 1e21 || f < -1e21 {
		return raw
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64)
}
