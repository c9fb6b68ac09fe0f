package proxy

import (
	"bytes"
	"net/url"
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

// attachmentTargets are the values to remove from a sensitive item, and
// cutAttachmentTargets those to remove from one that is sensitive or
// some of whose content was cut or masked (cut). Of a sensitive item, the
// inline data of every Attachment below the resource goes, with what
// describes that data: its title (words written for people, as the
// narrative), size and hash (a hash, even a size, of withheld content can
// tell which content it was); contentType, language, creation and the url
// (which reads the Binary through the proxy's rules) stay. An attachment is
// a rendering of the record for people (a DiagnosticReport's presentedForm
// is the whole report), so of a cut item every attachment also loses its
// url, data or none: what it points at renders the record uncut. Of a cut
// item, the other summaries of what was cut go too: every narrative below
// the resource (a contained resource's text, a Composition section's text;
// the resource's own text goes in makeItemEdits), and a DiagnosticReport's
// conclusion and conclusionCode, which summarise its results (the
// resource's own and a contained one's). Only such resources are walked.
func (r *run) attachmentTargets(it *item) ([]span, error) {
	at, _, err := r.cutAttachmentTargets(it, false)
	return at, err
}

// cutAttachmentTargets returns the narratives below the resource apart:
// removing them alone is not what REDACTED says (a masked resource loses
// its narrative under MASKED).
func (r *run) cutAttachmentTargets(it *item, cut bool) (targets, narratives []span, err error) {
	seg := r.body[it.start:it.end]
	// "d\u0061ta" is data to every JSON client: a resource with a \u
	// escape is walked whatever it holds. No other escape spells a letter,
	// so a narrative's \" (Synthea's divs escape a quote every few dozen
	// bytes) does not make every sensitive resource walked.
	if it.res.Type == "Binary" || !cut && !sensitive(it.res.Labels) {
		return nil, nil, nil
	}
	escaped := bytes.Contains(seg, escapeU)
	if cut || escaped || bytes.Contains(seg, dataKey) {
		if _, err := attachmentData(r.body, it.start, 0, cut, &targets, &narratives); err != nil {
			return nil, nil, rewriteFailure(err)
		}
	}
	if !cut && (escaped || bytes.Contains(seg, urlKey)) {
		if err := r.externalAttachmentURLs(it, &targets); err != nil {
			return nil, nil, rewriteFailure(err)
		}
	}
	if cut {
		for _, at := range append([]int{it.start}, containedStarts(it)...) {
			if err := r.reportSummaries(at, &targets); err != nil {
				return nil, nil, rewriteFailure(err)
			}
		}
	}
	return targets, narratives, nil
}

func containedStarts(it *item) []int {
	var out []int
	for _, c := range it.contained {
		if c.res != nil && c.res.Type == "DiagnosticReport" {
			out = append(out, c.start)
		}
	}
	return out
}

// reportSummaries appends the conclusion and conclusionCode (and the
// conclusion's "_conclusion") of the resource at start when it is a
// DiagnosticReport.
func (r *run) reportSummaries(start int, out *[]span) error {
	if rt, err := r.resourceType(start); err != nil || rt != "DiagnosticReport" {
		return err
	}
	return fjson.ObjectEach(r.body, start, func(key []byte, s, e int) error {
		switch keyName(key) {
		case "conclusion", "_conclusion", "conclusionCode":
			*out = append(*out, span{s, e})
		}
		return nil
	})
}

var dataKey, escapeU, urlKey = []byte(`"data"`), []byte(`\u`), []byte(`"url"`)

// externalAttachmentURLs appends to out the url of each attachment of the
// sensitive item it that names its content elsewhere than the upstream:
// an absolute url not below the upstream base (a storage service's
// presigned link, as Medplum writes for Binary content; another server's;
// a data: url). The proxy removes such an item's inline data, which it
// cannot read; fetched from the url instead, the same content went past
// every rule. A url below the upstream base is pointed at the proxy
// (attachmentURLEdits), where the Binary rules read it; a relative one
// resolves against the proxy.
func (r *run) externalAttachmentURLs(it *item, out *[]span) error {
	_, err := attachmentURLs(r.body, it.start, 0, func(s, e int) {
		u, isString := fjson.StringValue(r.body, s, e)
		if !isString {
			*out = append(*out, span{s, e})
			return
		}
		if _, ok := r.s.pageRel(u); ok {
			return
		}
		if pu, err := url.Parse(strings.TrimSpace(u)); err == nil && !pu.IsAbs() && pu.Host == "" {
			return
		}
		*out = append(*out, span{s, e})
	})
	return err
}

// attachmentData walks the value at i and appends the data value of each
// Attachment below the top one, with its title, size and hash (and their
// "_x"): an object whose data is a string (base64Binary) and that has a
// contentType, or none of the members that make it a SampledData (origin,
// dimensions) or a Signature (who, when, sigFormat), the other types with
// a string data member. FHIR requires a contentType beside data (att-1),
// yet a server that does not enforce it must not get data past the proxy.
// Consent.provision.data, an array of references, is no attachment and
// stays. When cut, it appends also the url of each Attachment, with or
// without data (an object with a string contentType, or whose members are
// all an Attachment's, url among them), and every narrative (a text object
// with a div).
func attachmentData(b []byte, i, depth int, cut bool, out, narratives *[]span) (int, error) {
	switch b[i] {
	case '{':
		data, hasType, typeString, other, foreign, ext, only, narrative := span{-1, -1}, false, false, false, false, false, false, false
		var ident, titles, urls []span
		end, err := fjson.ObjectScan(b, i, func(key []byte, vs int) (int, error) {
			ve, err := attachmentData(b, vs, depth+1, cut, out, narratives)
			name := keyBytes(key)
			switch string(name) {
			case "data":
				data = span{vs, ve}
			case "contentType":
				hasType, typeString = true, b[vs] == '"'
			case "origin", "dimensions", "who", "when", "sigFormat":
				other = true
			case "size", "_size", "hash", "_hash", "_data":
				ident = append(ident, span{vs, ve})
				only = true
			case "title", "_title":
				titles = append(titles, span{vs, ve})
				only = true
			case "url", "_url":
				urls = append(urls, span{vs, ve})
			case "div":
				narrative = true
			case "extension":
				ext = true
			case "id", "_contentType":
			default: // an Attachment's, or its "_x"
				n := bytes.TrimPrefix(name, []byte("_"))
				only = only || attachmentOnly[string(n)]
				foreign = foreign || !attachmentOnly[string(n)]
			}
			return ve, err
		})
		if err != nil || depth == 0 {
			return end, err
		}
		// Attachment.data is a string (base64Binary): a provision's data
		// array (Consent.provision.data, references) is no attachment.
		withData := (hasType || !other) && data.start >= 0 && b[data.start] == '"'
		if withData {
			*out = append(*out, data)
			*out = append(*out, ident...)
		}
		if !cut {
			return end, nil
		}
		// an object whose members are all an Attachment's, but an
		// Extension's (a url beside nested extensions and nothing else)
		byShape := len(urls) > 0 && !foreign && !other && (!ext || only)
		if !withData && (typeString || byShape) {
			*out = append(*out, ident...)
		}
		if withData || typeString || byShape {
			*out = append(*out, titles...)
			*out = append(*out, urls...)
		}
		if narrative && depth > 1 { // the resource's own: makeItemEdits
			*narratives = append(*narratives, span{i, end})
		}
		return end, nil
	case '[':
		return fjson.ArrayScan(b, i, func(vs int) (int, error) { return attachmentData(b, vs, depth+1, cut, out, narratives) })
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
	if !r.mayHoldUpstreamURL(r.body[it.start:it.end]) {
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
		if rest, ok := r.s.pageRel(u); ok {
			out = append(out, fjson.Edit{Start: s, End: e, Data: fjson.AppendString(nil, r.ex.publicBase+rest)})
		}
	})
	if err != nil {
		return nil, rewriteFailure(err)
	}
	return out, nil
}

// mayHoldUpstreamURL reports whether seg may hold a url naming an upstream
// base in a spelling pageRel takes for it: an authority ("//", its slashes
// escaped or not, then up to a path, query or fragment) holding a base's
// host in any case, or one sameServer could read so that this cheap look
// cannot rule out (a percent-escape, a byte outside ASCII: Unicode case
// folding takes the Kelvin sign for a k), or a \u escape (which could
// spell any of it). A false "maybe" only costs a walk, so a resource whose
// only urls are code systems and profiles elsewhere, and whose only
// escapes are its narrative's \" (Synthea's divs escape their quotes), is
// not walked for nothing; a false "no" would leave the upstream's address
// and skip the Binary rules, so there is none.
func (r *run) mayHoldUpstreamURL(seg []byte) bool {
	hs, local := &r.s.upHosts, upstreamHosts{}
	if !hs.done { // a Server not built by New
		hs = &local
	}
	// One search for "//", `\/` and `\u` together (fjson.IndexURLMark
	// reads 32 positions a step), so the slashes of every closing tag and
	// the code systems' "http://" cost no search of their own. An escaped
	// slash starts an authority in the spellings "/\/", "\//" and
	// "\/\/"; every `\/` is looked at, and the search goes on from its
	// slash (which may begin a "//": "/\//x" holds both), a "//" skipped
	// past as before.
	for i := 0; ; {
		j := fjson.IndexURLMark(seg[i:])
		if j < 0 {
			return false
		}
		p := i + j // seg[p:p+2] is "//", `\/` or `\u`
		if seg[p] == '/' {
			i = p + 2
			if hs.mayBeUpstream(r.s.upBases, authorityAt(seg, i)) {
				return true
			}
			continue
		}
		if seg[p+1] == 'u' {
			return true
		}
		i = p + 1
		var at int
		switch {
		case p > 0 && seg[p-1] == '/': // "/\/"
			at = p + 2
		case bytes.HasPrefix(seg[p+2:], []byte("/")): // "\//"
			at = p + 3
		case bytes.HasPrefix(seg[p+2:], []byte(`\/`)): // "\/\/"
			at = p + 4
		default:
			continue
		}
		if hs.mayBeUpstream(r.s.upBases, authorityAt(seg, at)) {
			return true
		}
	}
}

// authorityAt is the authority that starts at i in raw JSON: up to a path,
// query or fragment, an escape (a \/ path; a \u escape is caught before)
// or the string's end.
func authorityAt(seg []byte, i int) []byte {
	end := i
	for end < len(seg) {
		switch seg[end] {
		case '/', '?', '#', '"', '\\':
			return seg[i:end]
		}
		end++
	}
	return seg[i:end]
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
			name := keyBytes(key)
			switch {
			case string(name) == "url":
				if b[vs] == '"' {
					urls = append(urls, span{vs, ve})
				}
			case bytes.HasPrefix(name, []byte("value")):
				value = true
			case string(name) == "extension":
				ext = true
			case attachmentOnly[string(name)]:
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
// keeps exactly those, leaving obligations and refrains out; Set.Sensitive
// answers as its mark would, without building one).
func sensitive(ls labels.Set) bool { return ls.Sensitive() }

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
