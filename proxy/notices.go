package proxy

import (
	"cmp"
	"slices"
	"sort"
	"strings"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/policy"
)

// disclosedNotices are the notices the decisions of disclosed items oblige
// (e.g. the 42 CFR 2.32 notice), once each, sorted by id.
func (r *run) disclosedNotices() []policy.Notice {
	byID := map[string]policy.Notice{}
	var relied []audit.ConsentRef // consents that let noticed items through
	for _, it := range r.items {
		if d := it.class.decision; d.Permitted() {
			for _, n := range d.Notices {
				byID[n.ID] = n
			}
			if len(d.Notices) == 0 {
				continue
			}
			for _, reason := range d.Reasons {
				if reason.Consent != "" && !slices.Contains(relied, audit.ConsentRef{ID: reason.Consent, Version: reason.Version}) {
					relied = append(relied, audit.ConsentRef{ID: reason.Consent, Version: reason.Version})
				}
			}
		}
	}
	if n, ok := r.consentScopeNotice(relied); ok {
		byID[n.ID] = n
	}
	out := make([]policy.Notice, 0, len(byID))
	for _, n := range byID {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ConsentScopeNotice is the ID of the notice that explains the scope of
// the consents a disclosure was made under (42 CFR 2.32(b), 2024 rule:
// each disclosure made with the patient's written consent is accompanied
// by a copy of the consent or a clear explanation of its scope).
const ConsentScopeNotice = "42CFR2.32(b)"

// consentScopeNotice explains the scope of the consents relied on
// (consent.Normalized.Scope), in the order the decisions cited them. It is
// sent when a disclosure that obliges a notice was permitted by a consent.
func (r *run) consentScopeNotice(relied []audit.ConsentRef) (policy.Notice, bool) {
	if len(relied) == 0 {
		return policy.Notice{}, false
	}
	slices.SortFunc(relied, func(a, b audit.ConsentRef) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Version, b.Version))
	})
	var b strings.Builder
	b.WriteString("Disclosed with the patient's written consent.")
	for _, ref := range relied {
		b.WriteByte(' ')
		if n := r.consentByRef(ref); n != nil {
			b.WriteString(n.Scope())
		} else {
			b.WriteString("Consent/" + strings.TrimPrefix(ref.ID, "upstream:") + " version " + ref.Version + ".")
		}
	}
	return policy.Notice{ID: ConsentScopeNotice, Text: b.String()}, true
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

// noticeHeaderValues renders notices for NoticeHeader, keeping only
// printable ASCII.
func noticeHeaderValues(ns []policy.Notice) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		v := printable(n.ID + "; " + n.Text)
		if len(v) > maxNoticeHeader {
			v = v[:maxNoticeHeader-len(noticeCut)] + noticeCut
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

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, s)
}

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
