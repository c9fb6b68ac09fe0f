package proxy

import (
	"net/http"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// bundleMarkEdits returns the edits (absolute offsets in r.body) that write
// the high-water mark of b's disclosed content into b's meta.security: the
// highest confidentiality and the sensitivity and policy codes of the
// entries the caller will see (with the labels their decisions add), nested Bundles included, without obligation
// or refrain codes (labels.HighWaterMark). Withheld entries leave no mark,
// and summary labels the upstream put on the Bundle that the disclosed
// entries do not support are removed (labels.MarkEdits). When none of the
// members of b's meta is left (labels it removed, and nothing else), it
// returns dropMeta and the caller removes b's meta member with the others
// it removes: "meta":{} would tell as "security":[] would. It must run
// after decide.
func (r *run) bundleMarkEdits(b *bundleNode) (edits []fjson.Edit, dropMeta bool, err error) {
	var m labels.Mark
	r.markDisclosed(b, &m)
	if r.page != nil && b == r.page.root {
		for _, pr := range r.merged { // refill.go
			pr.r.markDisclosed(pr.root, &m)
		}
	}
	mark := m.Set()
	// collectBundle located meta and the anchor: the Bundle is not scanned
	// again (offsets are absolute).
	meta := -1
	if b.metaIdx >= 0 {
		meta, _ = trim(r.body, b.members[b.metaIdx].vStart, b.members[b.metaIdx].end)
	}
	as, ae := trim(r.body, b.anchor.start, b.anchor.end)
	edits, dropMeta, err = labels.MarkMetaEdits(r.body, meta, as, ae, mark)
	if err != nil {
		// The Bundle's meta as the server sent it is no object, or its
		// security no array (redact.go, labelEdits).
		return nil, false, fail(http.StatusBadGateway, "processing", "a Bundle from the FHIR server could not be labelled", err)
	}
	return edits, dropMeta, nil
}

// markDisclosed adds to m the labels of the entries of b, and of Bundles
// nested in them, that the caller may see, with the labels their decisions
// add.
func (r *run) markDisclosed(b *bundleNode, m *labels.Mark) {
	for _, e := range b.entries {
		switch {
		case e.nested != nil && e.nested.paged != nil: // refill.go pageEntrySearches
			m.Add(e.nested.paged.mark)
		case e.nested != nil:
			r.markDisclosed(e.nested, m)
		case e.item != nil && e.item.class != nil && e.item.class.decision.Permitted():
			m.Add(e.item.res.Effective())
			m.Add(e.item.class.obligationLabels())
		}
	}
}
