package proxy

import (
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
//   - DocumentReference.content[].attachment and
//     DiagnosticReport.presentedForm[]: when the resource is labelled
//     sensitive (confidentiality R or V, or a sensitivity or policy code),
//     the inline data of every attachment is removed (REDACTED), whatever
//     its content type: its content may be more sensitive than the labels
//     say. The attachment's other members (contentType, url, title, size,
//     hash) stay.
//   - An attachment url below the upstream base is rewritten to the proxy's
//     base, so that following it reads the Binary through the proxy and the
//     same rules.

// attachmentMembers lists where each type keeps its attachments: member,
// and within each of its elements the member holding the Attachment ("" when
// the element is the Attachment).
var attachmentMembers = map[string][2]string{
	"DocumentReference": {"content", "attachment"},
	"DiagnosticReport":  {"presentedForm", ""},
}

// eachAttachment calls fn with the start of each Attachment object of the
// item.
func (r *run) eachAttachment(it *item, fn func(at int) error) error {
	where, ok := attachmentMembers[it.res.Type]
	if !ok {
		return nil
	}
	b := r.body
	s, _, found, err := fjson.Lookup(b, it.start, where[0])
	if err != nil || !found || b[s] != '[' {
		return err
	}
	return fjson.ArrayEach(b, s, func(es, _ int) error {
		if b[es] != '{' {
			return nil
		}
		if where[1] == "" {
			return fn(es)
		}
		as, _, ok, err := fjson.Lookup(b, es, where[1])
		if err != nil || !ok || b[as] != '{' {
			return err
		}
		return fn(as)
	})
}

// attachmentTargets are the inline data values to remove from a sensitive
// item.
func (r *run) attachmentTargets(it *item) ([]span, error) {
	if _, ok := attachmentMembers[it.res.Type]; !ok || !sensitive(it.res.Labels) {
		return nil, nil
	}
	var out []span
	err := r.eachAttachment(it, func(at int) error {
		s, e, ok, err := fjson.Lookup(r.body, at, "data")
		if ok {
			out = append(out, span{s, e})
		}
		return err
	})
	if err != nil {
		return nil, rewriteFailure(err)
	}
	return out, nil
}

// attachmentURLEdits points attachment urls below the upstream base at the
// proxy.
func (r *run) attachmentURLEdits(it *item) ([]fjson.Edit, error) {
	if _, ok := attachmentMembers[it.res.Type]; !ok {
		return nil, nil
	}
	var out []fjson.Edit
	err := r.eachAttachment(it, func(at int) error {
		s, e, ok, err := fjson.Lookup(r.body, at, "url")
		if err != nil || !ok {
			return err
		}
		u, isString := fjson.StringValue(r.body, s, e)
		if !isString {
			return nil
		}
		if rewritten, ok := r.s.rewriteBase(u, r.ex.publicBase); ok {
			out = append(out, fjson.Edit{Start: s, End: e, Data: fjson.AppendString(nil, rewritten)})
		}
		return nil
	})
	if err != nil {
		return nil, rewriteFailure(err)
	}
	return out, nil
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
