package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// targetSearch is one Type?_id= search of fetchTargets: the ids asked,
// and the targets (indices into its local targets) naming one of them.
type targetSearch struct {
	typ string
	ids []string
	ks  []int
}

// bulkyTypes are read on their own: 50 Binaries or documents in one
// answer would pass the size limit that each of them does not.
var bulkyTypes = map[string]bool{"Binary": true, "Bundle": true}

// targetSearches groups the current versions of the targets ts by type:
// the searches asking for each type with two or more ids (in chunks whose
// URLs stay short, as currentBySearch's), and the targets read on their
// own (a version, a canonical, an id no search may carry, a Binary or a
// Bundle, the one target of its type).
func targetSearches(ts []labels.Target) (searches []targetSearch, single []int) {
	byType := map[string][]int{}
	var types []string
	for k, t := range ts {
		if t.Canonical != "" || t.Version != "" || !fhirTypeName(t.Type) || !fhirID.MatchString(t.ID) || bulkyTypes[t.Type] {
			single = append(single, k)
			continue
		}
		if _, ok := byType[t.Type]; !ok {
			types = append(types, t.Type)
		}
		byType[t.Type] = append(byType[t.Type], k)
	}
	for _, typ := range types {
		ks := byType[typ]
		var ids []string
		of := map[string][]int{}
		for _, k := range ks {
			id := ts[k].ID
			if _, ok := of[id]; !ok {
				ids = append(ids, id)
			}
			of[id] = append(of[id], k)
		}
		if len(ids) < 2 {
			single = append(single, ks...)
			continue
		}
		for chunk := range idChunks(ids, historyCurrentIDs, historyCurrentQuery) {
			c := targetSearch{typ: typ, ids: chunk}
			for _, id := range chunk {
				c.ks = append(c.ks, of[id]...)
			}
			searches = append(searches, c)
		}
	}
	return searches, single
}

// searchCurrentTargets asks the upstream for the current versions of ids of typ
// (typ?_id=a,b,c&_count=n) and returns those it lists, by id. Only an
// answer that lists nothing but them can be taken: one the upstream
// refuses, that is no searchset, or that lists another resource, one of
// them twice or as anything but a match (a server ignoring _id, or
// reading it otherwise) lists none, and every target is read on its own
// (fetchTarget decides, and fails closed). A listed entry marked
// SUBSETTED (a summary: a unit's partOf may be cut) is read on its own
// too, and so is every id not listed: deleted, missing, past a page the
// server caps, kept from searches. An answer past the size limit, cut
// short or not received lists none as well; a timeout, or the request
// ending, is an error as a read's is.
func (s *Server) searchCurrentTargets(ctx context.Context, ex *exchange, typ string, ids []string) (map[string][]byte, error) {
	q := url.Values{"_id": {strings.Join(ids, ",")}, "_count": {strconv.Itoa(len(ids))}}
	body, status, ctype, err := s.fetchPath(ctx, ex, typ+"?"+q.Encode())
	if err != nil {
		if f := classify(err); f.Status == http.StatusGatewayTimeout || ctx.Err() != nil {
			return nil, f
		}
		// Past the size limit (50 resources may be, where each is not),
		// cut short, or no answer: the reads decide, and fail closed.
		return nil, nil
	}
	defer recycleOut(body)
	if status != http.StatusOK || !isJSON(ctype) || fjson.Validate(body, s.opts.MaxJSONDepth) != nil {
		return nil, nil
	}
	var set searchsetAnswer
	if json.Unmarshal(body, &set) != nil || set.ResourceType != "Bundle" || set.Type != "searchset" {
		return nil, nil
	}
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	found := make(map[string][]byte, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, e := range set.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
			Meta         struct {
				Tag      []codeOnly `json:"tag"`
				Security []codeOnly `json:"security"`
			} `json:"meta"`
		}
		if len(e.Resource) == 0 || json.Unmarshal(e.Resource, &head) != nil {
			return nil, nil
		}
		if e.Search.Mode == "outcome" && head.ResourceType == "OperationOutcome" {
			continue
		}
		if head.ResourceType != typ || !want[head.ID] || seen[head.ID] || e.Search.Mode != "" && e.Search.Mode != "match" {
			return nil, nil
		}
		seen[head.ID] = true
		if !subsetted(head.Meta.Tag) && !subsetted(head.Meta.Security) {
			found[head.ID] = e.Resource
		}
	}
	return found, nil
}

// codeOnly is a Coding's code.
type codeOnly struct {
	Code string `json:"code"`
}

// subsetted reports whether tags (a meta.tag or meta.security) hold
// SUBSETTED: the resource is not whole.
func subsetted(tags []codeOnly) bool {
	for _, t := range tags {
		if t.Code == "SUBSETTED" {
			return true
		}
	}
	return false
}
