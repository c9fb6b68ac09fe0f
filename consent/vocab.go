package consent

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// checkVocabulary reports every purpose of use, security label and
// policyRule code of the consent that is not in the HL7 vocabulary ds4p
// knows (labels.KnownCode). It runs where a consent is written or tried
// ([Store.Put], [Validate]), not when a stored one is read again: a consent
// stored by an earlier release keeps working as before.
//
// Why it matters: a provision compares codes exactly, so a deny naming
// "MHX" or "sud" would match no data and withhold nothing, and a permit
// naming "TRET" would permit nothing. Both look right to whoever wrote them.
func (p *parsed) checkVocabulary() problems {
	var errs problems
	if r := p.res.PolicyRule; r != nil {
		for i, c := range r.Coding {
			if system := currentSystem(c.System); system != actCodeSystem && labels.NormalizeSystem(c.System) == actCodeSystem {
				// A spelling of v3-ActCode FHIR servers accept (https, a
				// trailing slash, a |version, a bare OID) that the base
				// rule (baseRule) does not read as it: OPTIN would be no
				// opt-in, and a misspelt opt-out would go unchecked.
				errs.add(index("Consent.policyRule.coding", i)+".system",
					"%q is not how ds4p reads v3-ActCode: write %s", c.System, actCodeSystem)
				continue
			}
			if currentSystem(c.System) == actCodeSystem && c.Code != "" && !labels.KnownCode(c.System, c.Code) {
				errs.add(index("Consent.policyRule.coding", i)+".code", "%s", unknownCode(c.System, c.Code, "consent policy"))
			}
		}
	}
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		at := "Consent." + n.path
		for _, code := range n.cond.Purposes {
			if !labels.KnownPurpose(code) {
				errs.add(at+".purpose", "%s", unknownCode(actReasonSystem, code, "purpose of use"))
			}
		}
		for _, l := range n.cond.Labels {
			i := strings.LastIndexByte(l, '|')
			if system, code := l[:i], l[i+1:]; !labels.KnownCode(system, code) {
				errs.add(at+".securityLabel", "%s", unknownCode(system, code, "security label"))
			}
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(p.root)
	if p.r5 {
		for i := range errs {
			errs[i].Path = r5Path(errs[i].Path)
		}
	}
	return errs
}

// parseForWrite parses raw as parseRelease does and adds the vocabulary
// problems, so that a consent being written gets every problem at once
// (a mistyped status does not hide a mistyped purpose).
func parseForWrite(raw []byte, maxSize int, rel Release) (*parsed, error) {
	// JSON is UTF-8 (RFC 8259), and encoding/json reads other bytes as
	// U+FFFD: a consent saved as Latin-1 or Windows-1252 would be stored
	// with bytes no FHIR tool reads, and was refused for "member names that
	// differ only in case", which sent the operator looking for the wrong
	// thing (QA round 19).
	if !utf8.Valid(raw) {
		return nil, &ValidationError{Problems: []Problem{{Path: "Consent", Message: "is not UTF-8 text, which FHIR JSON must be " +
			"(saved as Latin-1 or Windows-1252? convert it, e.g. iconv -f windows-1252 -t utf-8)"}}}
	}
	doc, err := parseRelease(raw, maxSize, rel)
	if doc == nil {
		return nil, err
	}
	// The parse reads names as encoding/json does, in any case, the last
	// of two winning; what is stored is read by FHIR servers and tools by
	// the exact name: "reference" and "Reference" in one patient would be
	// enforced for one patient and show another (QA round 12). Only on
	// writes: a stored consent stays readable as it was. Checked once the
	// rest holds, so that an exact duplicate is named where it is.
	if err == nil && fjson.FoldedDuplicate(raw) != nil {
		return nil, &ValidationError{Problems: []Problem{{Path: "Consent", Message: "has member names that differ only in case; FHIR names are case-sensitive"}}}
	}
	vocab := append(append(doc.checkVocabulary(), doc.checkDateTime()...), doc.checkActorRefs()...)
	if doc.r5 {
		vocab = append(vocab, r5StatusProblems(raw)...)
	}
	foreign := doc.checkForeignData()
	vocab = append(vocab, foreign...)
	if len(vocab) == 0 {
		return doc, err
	}
	if err == nil && len(foreign) == len(vocab) {
		return doc, &ValidationError{Problems: vocab, Err: ErrForeignData}
	}
	if err == nil {
		return doc, vocab.err()
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		ve.Problems = append(ve.Problems, vocab...)
	}
	return doc, err
}

// checkDateTime requires Consent.dateTime (R5: date), when present, to be
// a FHIR dateTime: a consent's date says which of two copies is the later
// (Merge, Store.Import), and one that cannot be read ("yesterday",
// "12/01/2026", no zone) was ignored there without a word. Only on writes,
// as checkVocabulary: a stored consent stays readable as it was.
func (p *parsed) checkDateTime() problems {
	var errs problems
	if d := p.res.DateTime; d != "" {
		if _, err := parseSpan(d); err != nil {
			errs.add("Consent.dateTime", "%q is %s", d, err)
		}
	}
	if p.r5 {
		for i := range errs {
			errs[i].Path = r5Path(errs[i].Path)
		}
	}
	return errs
}

// unknownCode describes a code outside the known vocabulary, with the code
// it most likely meant.
func unknownCode(system, code, what string) string {
	msg := fmt.Sprintf("%q is not a %s code of %s that ds4p knows, so it would match nothing", code, what, system)
	if s := labels.SuggestCode(system, code); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return msg
}

// r5StatusProblems reports an R5 consent whose status is one only R4 has
// (proposed, rejected): R5's are draft, active, inactive, not-done,
// entered-in-error and unknown. The R4 reading takes either as not in
// force, but the stored resource would be one no R5 reader accepts. Only
// on writes, as checkVocabulary.
func r5StatusProblems(raw []byte) problems {
	var top struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal(raw, &top)
	var errs problems
	if r5Only := map[string]string{"proposed": "draft", "rejected": "not-done"}; r5Only[top.Status] != "" {
		errs.add("Consent.status", "%q is an R4 status, not an R5 one (draft, active, inactive, not-done, entered-in-error, unknown): "+
			"an R5 consent says %q", top.Status, r5Only[top.Status])
	}
	return errs
}

// checkActorRefs requires each actor reference of the provision tree to be
// relative, Type/id: the policy compares the caller's organisation and
// subject (and the directory and upstream resolution their forms) with a
// provision's actors as written, so an absolute URL
// ("https://ehr.example/fhir/Organization/o1"), a versioned or a
// conditional reference matches no caller. A deny naming one withheld
// nothing while it looked right (QA round 20). Only on writes, as
// checkVocabulary: a stored consent stays readable as it was. Contained
// references are refused by every read (literalRef).
func (p *parsed) checkActorRefs() problems {
	if len(p.res.Provision) == 0 {
		return nil
	}
	var root provisionJSON
	if json.Unmarshal(p.res.Provision, &root) != nil {
		return nil // the read reported it
	}
	var errs problems
	var walk func(pr *provisionJSON, path string, depth int)
	walk = func(pr *provisionJSON, path string, depth int) {
		if depth >= maxDepth {
			return
		}
		for i, a := range pr.Actor {
			if a.Reference == nil {
				continue
			}
			ref := a.Reference.Reference
			if ref == "" || strings.HasPrefix(ref, "#") || relativeRef(ref) {
				continue
			}
			errs.add(index("Consent."+path+".actor", i)+".reference.reference",
				"%q is not a relative reference Type/id: callers are matched by their organisation and subject "+
					"as Type/id (or by identifier), so it would match no one; write e.g. Organization/<id>, or the actor's identifier", ref)
		}
		for i := range pr.Provision {
			walk(&pr.Provision[i], index(path+".provision", i), depth+1)
		}
	}
	walk(&root, "provision", 0)
	if p.r5 {
		for i := range errs {
			errs[i].Path = r5Path(errs[i].Path)
		}
	}
	return errs
}

// checkForeignData reports each provision.data reference a permit reads as
// another server's resource (under a base URL that is not the upstream's:
// SetLocalServer), in the permit's own provision or one above it: the
// permit matches no item (279efe3), while the compliance officer who wrote
// it believes it disclosed that record. Only on writes, as checkVocabulary:
// a stored or upstream consent stays readable as it was. A deny reads such
// a reference as Type/id and is accepted. With no upstream bases set (the
// command line) every base counts as the upstream's and nothing is
// reported.
func (p *parsed) checkForeignData() problems {
	if p.root == nil || localServer.Load() == nil || p.res.Status != "active" {
		return nil // a consent not in force permits nothing: its revocation by update goes through
	}
	var errs problems
	seen := map[string]bool{}
	var walk func(nd *node, path []*node, depth int)
	walk = func(nd *node, path []*node, depth int) {
		if depth > maxDepth {
			return
		}
		path = append(slices.Clip(path), nd)
		if nd.typ == "permit" {
			for _, level := range path {
				for i, ref := range level.cond.foreignData {
					at := index("Consent."+level.path+".data", i) + ".reference.reference"
					if ref == "" || seen[at] {
						continue
					}
					seen[at] = true
					errs.add(at, "%q names a resource under a base URL that is not this FHIR server's (another server's "+
						"record), which no response carries: a permit of it would disclose nothing; name the resource "+
						"as Type/id if it is this server's; nothing was stored", ref)
				}
			}
		}
		for _, child := range nd.children {
			walk(child, path, depth+1)
		}
	}
	walk(p.root, nil, 0)
	if p.r5 {
		for i := range errs {
			errs[i].Path = r5Path(errs[i].Path)
		}
	}
	return errs
}

// relativeRef reports whether ref is Type/id with an R4 resource type.
func relativeRef(ref string) bool {
	typ, id, ok := strings.Cut(ref, "/")
	return ok && resourceTypes[typ] && resourceID.MatchString(id)
}
