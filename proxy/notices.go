package proxy

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// disclosedNotices are the notices the decisions of disclosed items oblige
// (e.g. the 42 CFR 2.32 notice), once each, sorted by id, with the
// explanation of the consents that let noticed content through
// (consentScopeNotice): the consents of the items' own classes and of the
// classes of their disclosed elements and contained resources, whose
// notices withExtraNotices adds.
func (r *run) disclosedNotices() []policy.Notice {
	byID := map[string]policy.Notice{}
	var relied []audit.ConsentRef // consents that let noticed items through
	for _, it := range r.items {
		if d := it.class.decision; d.Permitted() {
			for _, n := range d.Notices {
				byID[n.ID] = n
			}
			relied = reliedOn(relied, it.class)
		}
	}
	r.eachDisclosedPart(func(c *class) { relied = reliedOn(relied, c) })
	if n, ok := r.consentScopeNotice(relied); ok {
		byID[n.ID] = n
	}
	return sortedNotices(byID)
}

// sortedNotices are the notices of byID, sorted by id.
func sortedNotices(byID map[string]policy.Notice) []policy.Notice {
	out := make([]policy.Notice, 0, len(byID))
	for _, n := range byID {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// reliedOn adds to relied, once each, the consents c's decision cites when
// it permits content that obliges a notice.
func reliedOn(relied []audit.ConsentRef, c *class) []audit.ConsentRef {
	if c == nil || !c.decision.Permitted() || len(c.decision.Notices) == 0 {
		return relied
	}
	for _, reason := range c.decision.Reasons {
		ref := audit.ConsentRef{ID: reason.Consent, Version: reason.Version}
		if reliedReason(reason) && !slices.Contains(relied, ref) {
			relied = append(relied, ref)
		}
	}
	return relied
}

// ConsentScopeNotice is the ID of the notice that explains the scope of
// the consents a disclosure was made under (42 CFR 2.32(b), 2024 rule:
// each disclosure made with the patient's written consent is accompanied
// by a copy of the consent or a clear explanation of its scope).
const ConsentScopeNotice = "42CFR2.32(b)"

// consentScopeNotice explains the scope of the consents relied on, sorted
// by reference, as far as each applies to this recipient
// (consent.Normalized.ScopeFor with recipients). It is sent when a
// disclosure that obliges a notice was permitted by a consent.
func (r *run) consentScopeNotice(relied []audit.ConsentRef) (policy.Notice, bool) {
	if len(relied) == 0 {
		return policy.Notice{}, false
	}
	slices.SortFunc(relied, func(a, b audit.ConsentRef) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Version, b.Version))
	})
	who, purposes := r.recipients(), r.s.purposeHierarchy()
	var b strings.Builder
	b.WriteString("Disclosed with the patient's written consent.")
	for _, ref := range relied {
		b.WriteByte(' ')
		if n := r.consentByRef(ref); n != nil {
			b.WriteString(n.ScopeFor(who, purposes))
		} else {
			b.WriteString("Consent/" + strings.TrimPrefix(ref.ID, "upstream:") + " version " + ref.Version + ".")
		}
	}
	return policy.Notice{ID: ConsentScopeNotice, Text: b.String()}, true
}

// purposeHierarchySource is a Decider that can say which purpose-of-use
// hierarchy (config.purpose_hierarchy) its policy revision in force reads.
type purposeHierarchySource interface {
	PurposeHierarchy() map[string][]string
}

// purposeHierarchy is the purpose-of-use hierarchy the 2.32(b) explanation
// relates a consent's purposes by, the one the policy decides with: the
// decider's when it can say (purposeHierarchySource), else the embedded
// policy data's.
func (s *Server) purposeHierarchy() consent.PurposeHierarchy {
	if s != nil {
		if d, ok := s.decider.(purposeHierarchySource); ok {
			return d.PurposeHierarchy()
		}
	}
	return rego.PurposeHierarchy()
}

// recipients are the forms the consents may name this response's
// recipient by: the caller's organisation reference and identifiers
// ("system|value"), its subject and its fhirUser, as the policy matches
// consent actors (caller_actors).
func (r *run) recipients() []string {
	if r.ex == nil {
		return nil
	}
	c := r.ex.caller
	var out []string
	for _, s := range append([]string{c.Org, c.Subject, c.FHIRUser}, c.OrgIdentifiers...) {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// consentByRef finds a consent this response was decided with.
func (r *run) consentByRef(ref audit.ConsentRef) *consent.Normalized {
	for _, cs := range r.consents {
		for _, v := range cs.values {
			var n *consent.Normalized
			switch c := v.(type) {
			case *consent.Normalized:
				n = c
			case consent.Normalized:
				n = &c
			}
			if n != nil && n.ID == ref.ID && n.Version == ref.Version {
				return n
			}
		}
	}
	return nil
}

// NoticeHeader is the response header that carries each notice a
// disclosure obliges, as "ID; text".
const NoticeHeader = "X-DS4P-Notice"

// noticeHeaderValues renders notices for NoticeHeader as printable ASCII
// (printable), each value at most maxNoticeHeader bytes.
func noticeHeaderValues(ns []policy.Notice) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		v := printable(n.ID + "; " + n.Text)
		if len(v) > maxNoticeHeader {
			i := maxNoticeHeader - len(noticeCut)
			// Do not split a percent-escape.
			if j := strings.LastIndexByte(v[i-2:i], '%'); j >= 0 {
				i = i - 2 + j
			}
			v = v[:i] + noticeCut
		}
		out = append(out, v)
	}
	return out
}

// maxNoticeHeader bounds one NoticeHeader value: a search disclosing under
// many patients' consents explains each (ConsentScopeNotice), and clients
// and intermediaries refuse responses with headers of many kilobytes.
const maxNoticeHeader = 4096

const noticeCut = " ... (cut; a searchset's OperationOutcome entry carries the whole notice)"

// printable renders s for a header: printable ASCII stays, the UTF-8 bytes
// of other characters (Organization/org-über) are percent-encoded, as is
// '%' itself, so that percent-decoding gives the text back; control
// characters (CR, LF: header injection) and invalid UTF-8 are dropped.
func printable(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1, unicode.IsControl(r):
		case r == '%' || r > 0x7e:
			for _, c := range []byte(s[i : i+n]) {
				b.WriteByte('%')
				b.WriteByte(upperHex[c>>4])
				b.WriteByte(upperHex[c&0xf])
			}
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

const upperHex = "0123456789ABCDEF"

// noticeEntry is the outcome entry that carries notices in a searchset.
func noticeEntry(ns []policy.Notice) []byte {
	b := []byte(`{"resource":{"resourceType":"OperationOutcome","issue":[`)
	for i, n := range ns {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"severity":"information","code":"informational","details":{"text":`...)
		b = fjson.AppendString(b, n.ID)
		b = append(b, `},"diagnostics":`...)
		b = fjson.AppendString(b, n.Text)
		b = append(b, '}')
	}
	return append(b, `]},"search":{"mode":"outcome"}}`...)
}
