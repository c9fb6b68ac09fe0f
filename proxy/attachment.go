package proxy

import (
	"bytes"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// Attachments and Binary. The proxy cannot read what base64 data holds (a
// PDF, an image, a scanned note), so:
//
//   - A Binary with data is disclosed only when its own meta.security has a
//     confidentiality label (someone classified it) and the policy permits
//     that class; an unlabelled Binary is withheld (a read answers 404, as
//     for a missing one). A Binary the upstream sends as anything but FHIR
//     JSON is withheld the same way (fhir.go).
//   - When a resource is labelled sensitive (confidentiality R or V, or a
//     sensitivity or policy code), the inline data of every Attachment in
//     it (any object with contentType and data: DocumentReference
//     content.attachment, DiagnosticReport presentedForm, Observation
//     valueAttachment, Media content ...) is removed (REDACTED), whatever its
//     content type: its content may be more sensitive than the labels say.
//     The attachment's other members (contentType, url, title, size, hash)
//     stay.
//   - An attachment url below the upstream base, in any attachment of the
//     resource (attachmentURLEdits), is rewritten to the proxy's base, so
//     that following it reads the Binary through the proxy and the same
//     rules.

// attachmentTargets are the inline data values to remove from a sensitive
// item, and cutAttachmentTargets those to remove from one that is
// sensitive or some of whose content was cut or masked (cut): the
// data of every Attachment below the resource. An attachment is a
// rendering of the record for people (a DiagnosticReport's presentedForm
// is the whole report), so, as the narrative, it can still show what the
// cut elements said. Only such resources are walked.
func (r *run) attachmentTargets(it *item) ([]span, error) {
	return r.cutAttachmentTargets(it, false)
}

func (r *run) cutAttachmentTargets(it *item, cut bool) ([]span, error) {
	seg := r.body[it.start:it.end]
	// "d\u0061ta" is data to every JSON client: a resource with an escape
	// is walked whatever it holds
	if it.res.Type == "Binary" || !cut && !sensitive(it.res.Labels) || !bytes.Contains(seg, dataKey) && bytes.IndexByte(seg, '\\') < 0 {
		return nil, nil
	}
	var out []span
	if _, err := attachmentData(r.body, it.start, 0, &out); err != nil {
		return nil, rewriteFailure(err)
	}
	return out, nil
}

var dataKey = []byte(`"data"`)

// attachmentData walks the value at i and appends the data value of each
// Attachment below the top one: an object whose data is a string
// (base64Binary) and that has a contentType, or none of the members that
// make it a SampledData (origin, dimensions) or a Signature (who, when,
// sigFormat), the other types with a string data member. FHIR requires a
// contentType beside data (att-1), yet a server that does not enforce it
// must not get data past the proxy. Consent.provision.data, an array of
// references, is no attachment and stays.
func attachmentData(b []byte, i, depth int, out *[]span) (int, error) {
	switch b[i] {
	case '{':
		data, hasType, other := span{-1, -1}, false, false
		end, err := fjson.ObjectScan(b, i, func(key []byte, vs int) (int, error) {
			ve, err := attachmentData(b, vs, depth+1, out)
			switch {
			case fjson.KeyIs(key, "data"):
				data = span{vs, ve}
			case fjson.KeyIs(key, "contentType"):
				hasType = true
			case fjson.KeyIs(key, "origin"), fjson.KeyIs(key, "dimensions"),
				fjson.KeyIs(key, "who"), fjson.KeyIs(key, "when"), fjson.KeyIs(key, "sigFormat"):
				other = true
			}
			return ve, err
		})
		// Attachment.data is a string (base64Binary): a provision's data
		// array (Consent.provision.data, references) is no attachment.
		if err == nil && depth > 0 && (hasType || !other) && data.start >= 0 && b[data.start] == '"' {
			*out = append(*out, data)
		}
		return end, err
	case '[':
		return fjson.ArrayScan(b, i, func(vs int) (int, error) { return attachmentData(b, vs, depth+1, out) })
	}
	return fjson.SkipValue(b, i)
}

// attachmentURLEdits points the attachment urls of it that are below the
// upstream base at the proxy, outside the spans of skip (values cut or
// masked). An attachment is any object below the resource with a url but
// an Extension's (a url beside a value[x], or beside nested extensions and
// no member only an Attachment has): a Media's content, an
// Observation.valueAttachment, a Communication payload, a Consent's
// sourceAttachment, a QuestionnaireResponse answer, and the
// DocumentReference and DiagnosticReport attachments before them. Only
// DocumentReference and DiagnosticReport were rewritten: the others showed
// the upstream's address, and following it skipped the Binary rules. A url
// not below the upstream base is left as it is; an Extension's url names
// its kind and is never rewritten.
func (r *run) attachmentURLEdits(it *item, skip []span) ([]fjson.Edit, error) {
	seg := r.body[it.start:it.end]
	// an escaped url ("http:\/\/...") is walked whatever it holds
	if bytes.IndexByte(seg, '\\') < 0 && !r.holdsUpstreamBase(seg) {
		return nil, nil
	}
	var out []fjson.Edit
	_, err := attachmentURLs(r.body, it.start, 0, func(s, e int) {
		if withinSpans(s, e, skip) {
			return
		}
		u, isString := fjson.StringValue(r.body, s, e)
		if !isString {
			return
		}
		if rewritten, ok := r.s.rewriteBase(u, r.ex.publicBase); ok {
			out = append(out, fjson.Edit{Start: s, End: e, Data: fjson.AppendString(nil, rewritten)})
		}
	})
	if err != nil {
		return nil, rewriteFailure(err)
	}
	return out, nil
}

func (r *run) holdsUpstreamBase(seg []byte) bool {
	for _, b := range r.s.upBases {
		if bytes.Contains(seg, []byte(b)) {
			return true
		}
	}
	return false
}

// attachmentURLs walks the value at i and calls fn with the url value of
// each attachment below the top one (see attachmentURLEdits).
func attachmentURLs(b []byte, i, depth int, fn func(s, e int)) (int, error) {
	switch b[i] {
	case '{':
		var urls []span
		value, ext, only := false, false, false
		end, err := fjson.ObjectScan(b, i, func(key []byte, vs int) (int, error) {
			ve, err := attachmentURLs(b, vs, depth+1, fn)
			name := keyName(key)
			switch {
			case name == "url":
				if b[vs] == '"' {
					urls = append(urls, span{vs, ve})
				}
			case strings.HasPrefix(name, "value"):
				value = true
			case name == "extension":
				ext = true
			case attachmentOnly[name]:
				only = true
			}
			return ve, err
		})
		if err == nil && depth > 0 && !value && (!ext || only) {
			for _, u := range urls {
				fn(u.start, u.end)
			}
		}
		return end, err
	case '[':
		return fjson.ArrayScan(b, i, func(vs int) (int, error) { return attachmentURLs(b, vs, depth+1, fn) })
	}
	return fjson.SkipValue(b, i)
}

// attachmentOnly are the members an Attachment has and an Extension has
// not (R5's height, width, frames, duration and pages among them).
var attachmentOnly = map[string]bool{
	"contentType": true, "language": true, "data": true, "size": true, "hash": true, "title": true, "creation": true,
	"height": true, "width": true, "frames": true, "duration": true, "pages": true,
}

// sensitive reports whether ls says the data is sensitive: confidentiality
// R or V, or a v3-ActCode sensitivity or policy code (labels.HighWaterMark
// keeps exactly those, leaving obligations and refrains out).
func sensitive(ls labels.Set) bool {
	for _, l := range labels.HighWaterMark([]labels.Result{{Labels: ls}}) {
		switch {
		case l.System == labels.SystemActCode:
			return true
		case l.System == labels.SystemConfidentiality && (l.Code == "R" || l.Code == "V"):
			return true
		}
	}
	return false
}

// withholdUninspectable withholds each permitted Binary that carries data
// but no confidentiality label: nobody has classified what it holds.
func (r *run) withholdUninspectable() error {
	for _, it := range r.items {
		if it.res.Type != "Binary" || !it.class.decision.Permitted() {
			continue
		}
		if _, ok := it.res.Existing.Confidentiality(); ok {
			continue
		}
		_, _, hasData, err := fjson.Lookup(r.body, it.start, "data")
		if err != nil {
			return rewriteFailure(err)
		}
		if hasData {
			it.class = withheldClass(it.class, "binary-unclassified", "a Binary without a confidentiality label cannot be inspected")
		}
	}
	return nil
}
