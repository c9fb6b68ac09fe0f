package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Values of Options.UnknownTargets (config labels.unknown_targets).
const (
	// TargetsFetch (the default, ""): a resource whose propagating
	// reference names a resource that neither the response nor the label
	// cache knows is labelled only after that target was read from the
	// upstream (labels.Batch.Resolve).
	TargetsFetch = "fetch"
	// TargetsIgnore labels with what the response and the cache know: a
	// MedicationRequest read before its reason Condition ever passed
	// through the proxy does not inherit the Condition's SUD label.
	TargetsIgnore = "ignore"
)

// targetFetchers bounds the upstream reads one response's unknown
// reference targets make at once.
const targetFetchers = 8

// targetsFetched counts the reference targets read from the upstream to
// complete labels (a test reads it; the metric is ds4p.labels.targets_fetched).
var targetsFetched atomic.Int64

var labelTargetFetches, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.labels.targets_fetched",
	metric.WithDescription("resources read from the upstream because a response referred to them and the label cache did not know them"))

// targetFetcher returns the labels.FetchFunc of this run: reads of the
// unknown reference targets from the upstream, or nil when
// labels.unknown_targets is ignore.
func (r *run) targetFetcher(ctx context.Context) labels.FetchFunc {
	if r.s.opts.UnknownTargets == TargetsIgnore {
		return nil
	}
	return func(ts []labels.Target) ([][]byte, error) {
		bs, err := r.s.fetchTargets(ctx, r.ex, ts)
		if err == nil && r.ex.explain {
			// A simulation's answer tells the policy author the labels
			// these passed on: recordSimulation records them as read.
			for _, b := range bs {
				if b != nil {
					r.targets = append(r.targets, b)
				}
			}
		}
		return bs, err
	}
}

// fetchTargets reads the targets that are this upstream's resources
// (relative references, or absolute ones under its base) from it, at most
// targetFetchers requests at a time. Two or more current versions of one
// type are asked for in Type?_id=a,b,c searches first (targetSearches:
// a page of 100 records naming 100 roles, each at its own unit and site,
// read each of them one by one on a site with a Part 2 program); a target
// such a search does not list is read on its own, as every other one is
// (a version, a canonical, the one target of its type). A target that is
// missing or deleted, or that is another server's, passes nothing on.
// Anything else, or a request that ends before every target was read, is
// an error: the referring resources cannot be labelled, and the response
// is withheld (fail closed, 502, or 504 on a timeout).
func (s *Server) fetchTargets(ctx context.Context, ex *exchange, ts []labels.Target) ([][]byte, error) {
	local := ts[:0:0]
	for _, t := range ts {
		if t.Canonical != "" || t.Identifier != "" || s.localReference(t.Ref) {
			local = append(local, t)
		}
	}
	if len(local) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := make([][][]byte, len(local))
	read := func(k int) error {
		var err error
		if local[k].Canonical != "" {
			out[k], err = s.fetchCanonical(ctx, ex, local[k])
			return err
		}
		if t := local[k]; t.Identifier != "" {
			sys, val, _ := strings.Cut(t.Identifier, "|")
			out[k], err = s.fetchIdentified(ctx, ex, t.Type, sys, val)
			return err
		}
		b, err := s.fetchTarget(ctx, ex, local[k])
		if b != nil {
			out[k] = [][]byte{b}
		}
		return err
	}
	searches, single := targetSearches(local)
	var (
		mu       sync.Mutex
		unlisted []int
	)
	err := fetchAll(ctx, cancel, len(searches)+len(single), func(j int) error {
		if j >= len(searches) {
			return read(single[j-len(searches)])
		}
		c := searches[j]
		found, err := s.searchCurrentTargets(ctx, ex, c.typ, c.ids)
		if err != nil {
			return err
		}
		var miss []int
		for _, k := range c.ks {
			if b, ok := found[local[k].ID]; ok {
				out[k] = [][]byte{b}
			} else {
				miss = append(miss, k)
			}
		}
		mu.Lock()
		unlisted = append(unlisted, miss...)
		mu.Unlock()
		return nil
	})
	if err == nil {
		// Deleted, missing, or left out by the server: read as before, so
		// that a 404 passes nothing on and a deleted directory entry its
		// last version.
		err = fetchAll(ctx, cancel, len(unlisted), func(j int) error { return read(unlisted[j]) })
	}
	if err != nil {
		return nil, err
	}
	targetsFetched.Add(int64(len(local)))
	labelTargetFetches.Add(ctx, int64(len(local)))
	var found [][]byte
	for _, bs := range out {
		found = append(found, bs...)
	}
	return found, nil
}

// fetchAll runs do(0) ... do(n-1), at most targetFetchers at a time. The
// first error cancels the rest and is returned; a request that ends
// before every one ran is an error too (classify): the ones not run are
// not missing, and must not count as such, here or in the label cache.
func fetchAll(ctx context.Context, cancel context.CancelFunc, n int, do func(int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range min(targetFetchers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= n || ctx.Err() != nil {
					return
				}
				if err := do(k); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return classify(err)
	}
	return nil
}

// fetchCanonical searches the upstream for the resources a canonical
// target names (Questionnaire?url=...), whatever host its url
// names: a canonical names a definition, not where a server keeps it. It
// returns every match; none: the target passes nothing on. An answer that
// is not a searchset Bundle, that has a next page (matches not seen), or
// that holds a resource of another type or url (a server ignoring the
// search) is an error, as an unreadable target is. It searches by url
// alone, whatever version the canonical names: a server keeps a form
// revised in place at its current version only (or one recording none),
// so a search with version=2.0 finds nothing for a response answered under
// 2.0, and that response took nothing from its form (QA round 40, helper
// A). Every version passes on, as every version in the answer does
// (batchIndex.canonical): it is that form still, and over-labelling is the
// safe side.
func (s *Server) fetchCanonical(ctx context.Context, ex *exchange, t labels.Target) ([][]byte, error) {
	return s.searchOnePage(ctx, ex, t.Type, url.Values{"url": {t.Canonical}}, "for a canonical", func(res json.RawMessage) bool {
		var head struct {
			URL string `json:"url"`
		}
		return json.Unmarshal(res, &head) == nil && strings.TrimSpace(head.URL) == t.Canonical
	})
}

// searchsetAnswer is what searchOnePage and searchCurrentTargets read of
// a search's answer.
type searchsetAnswer struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Link         []struct {
		Relation string `json:"relation"`
	} `json:"link"`
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
		Search   struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

// searchOnePage runs one search of typ (the query q) for targets and
// returns every resource it lists. An answer that is not a searchset
// Bundle, that has a next page (matches not seen), or that holds a
// resource not of typ or not matching (a server ignoring the search) is
// an error, as an unreadable target is; what names the search in it.
func (s *Server) searchOnePage(ctx context.Context, ex *exchange, typ string, q url.Values, what string, matches func(res json.RawMessage) bool) ([][]byte, error) {
	body, status, _, err := s.fetchPath(ctx, ex, typ+"?"+q.Encode())
	if err != nil {
		return nil, classify(err)
	}
	if status != http.StatusOK {
		return nil, fail(http.StatusBadGateway, "processing", targetUnreadable, nil)
	}
	if err := fjson.Validate(body, s.opts.MaxJSONDepth); err != nil {
		return nil, fail(http.StatusBadGateway, "processing", targetUnreadable, err)
	}
	var set searchsetAnswer
	bad := func(why string) error {
		return fail(http.StatusBadGateway, "processing", targetUnreadable, errors.New("the upstream answered a search "+what+" with "+why))
	}
	if err := json.Unmarshal(body, &set); err != nil || set.ResourceType != "Bundle" || set.Type != "searchset" {
		return nil, bad("no searchset")
	}
	for _, l := range set.Link {
		if l.Relation == "next" {
			return nil, bad("more than one page")
		}
	}
	var found [][]byte
	for _, e := range set.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if len(e.Resource) == 0 || json.Unmarshal(e.Resource, &head) != nil {
			return nil, bad("an entry that is no resource")
		}
		if e.Search.Mode == "outcome" && head.ResourceType == "OperationOutcome" {
			continue
		}
		if head.ResourceType != typ || !matches(e.Resource) {
			return nil, bad("another resource")
		}
		found = append(found, e.Resource)
	}
	return found, nil
}

// fetchIdentified searches the upstream for the directory entries of type
// typ carrying the identifier system|value (Organization?identifier=...):
// a reference naming a department, role, site or service by identifier
// alone names each of them. It returns every match; none: the identifier
// names no entry of typ. An answer that is not a searchset Bundle, that
// has a next page (matches not seen), or that holds a resource of another
// type or one not carrying the identifier (a server ignoring the search)
// is an error, as an unreadable target is (fetchCanonical). A system ""
// is any system's.
func (s *Server) fetchIdentified(ctx context.Context, ex *exchange, typ, system, value string) ([][]byte, error) {
	q := url.Values{"identifier": {value}}
	if system != "" {
		q.Set("identifier", system+"|"+value)
	}
	return s.searchOnePage(ctx, ex, typ, q, "by identifier", func(res json.RawMessage) bool {
		var head struct {
			Identifier json.RawMessage `json:"identifier"`
		}
		return json.Unmarshal(res, &head) == nil && carriesIdentifier(head.Identifier, system, value)
	})
}

// carriesIdentifier reports whether a resource's identifier member (an
// array, or one object as a lax server keeps it) holds system|value (any
// system's value when system is "").
func carriesIdentifier(raw json.RawMessage, system, value string) bool {
	type ident struct {
		System string `json:"system"`
		Value  string `json:"value"`
	}
	var ids []ident
	if json.Unmarshal(raw, &ids) != nil {
		var one ident
		if json.Unmarshal(raw, &one) != nil {
			return false
		}
		ids = []ident{one}
	}
	for _, id := range ids {
		if (system == "" || strings.TrimSpace(id.System) == system) && strings.TrimSpace(id.Value) == value {
			return true
		}
	}
	return false
}

// fetchTarget reads one target: its body, or nil when the upstream has no
// such resource (404, 410).
func (s *Server) fetchTarget(ctx context.Context, ex *exchange, t labels.Target) ([]byte, error) {
	path := t.ID
	if t.Version != "" {
		// A version a reference names (labels.Target.Version): a vread.
		path += "/_history/" + t.Version
	}
	body, status, _, err := s.fetchStored(ctx, ex, t.Type, path)
	if err != nil {
		return nil, classify(err)
	}
	switch {
	case status == http.StatusGone && t.Version == "" && t.DirectoryEntry() && s.labeller.HasPrograms():
		// The program's directory entry deleted (the clinician left, the
		// site closed): the records naming it are the program's still.
		return s.fetchDeleted(ctx, ex, t)
	case status == http.StatusNotFound || status == http.StatusGone:
		return nil, nil
	case t.Version != "" && (status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented):
		// A server that keeps no history: the version is known as the
		// current one is, no better.
		return nil, nil
	case status != http.StatusOK:
		return nil, fail(http.StatusBadGateway, "processing", targetUnreadable, nil)
	}
	if err := fjson.Validate(body, s.opts.MaxJSONDepth); err != nil {
		return nil, fail(http.StatusBadGateway, "processing", targetUnreadable, err)
	}
	// The resource asked for, not a Bundle or another resource: what the
	// upstream answered would otherwise count as the target missing.
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Meta         struct {
			VersionID string `json:"versionId"`
		} `json:"meta"`
	}
	if err := json.Unmarshal(body, &head); err != nil || head.ResourceType != t.Type || head.ID != t.ID {
		return nil, fail(http.StatusBadGateway, "processing", targetUnreadable, errors.New("the upstream answered a read of a referenced resource with another resource"))
	}
	if t.Version != "" && head.Meta.VersionID != t.Version {
		// Another version (the current one, from a server that ignores
		// the history path) would label the reference as if the named
		// version passed nothing on.
		return nil, fail(http.StatusBadGateway, "processing", targetUnreadable, errors.New("the upstream answered a read of a version with another version"))
	}
	return body, nil
}

// fetchDeleted reads the last version of the deleted directory entry t
// from its history (newest first, as FHIR orders it): the first entry
// holding a resource, past the deletion's own entry, which holds none. A
// history that cannot be read, that holds another resource, or whose
// page holds no version of t (however many pages it has) is an error, as
// an unreadable target is: the records naming the entry cannot be
// labelled, and are withheld (QA round 41, helper A's A-6).
func (s *Server) fetchDeleted(ctx context.Context, ex *exchange, t labels.Target) ([]byte, error) {
	// Two entries: the deletion and the version before it.
	body, status, _, err := s.fetchStored(ctx, ex, t.Type, t.ID+"/_history?_count=2")
	if err != nil {
		return nil, classify(err)
	}
	bad := func(why string) error {
		return fail(http.StatusBadGateway, "processing", targetUnreadable, errors.New(why))
	}
	if status != http.StatusOK {
		return nil, bad("the upstream answered the history of a deleted directory entry with an error")
	}
	if err := fjson.Validate(body, s.opts.MaxJSONDepth); err != nil {
		return nil, fail(http.StatusBadGateway, "processing", targetUnreadable, err)
	}
	var set struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &set); err != nil || set.ResourceType != "Bundle" || set.Type != "history" {
		return nil, bad("the upstream answered the history of a deleted directory entry with no history")
	}
	for _, e := range set.Entry {
		if len(e.Resource) == 0 || string(e.Resource) == "null" {
			continue // the deletion
		}
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if json.Unmarshal(e.Resource, &head) != nil || head.ResourceType != t.Type || head.ID != t.ID {
			return nil, bad("the upstream answered the history of a deleted directory entry with another resource")
		}
		return e.Resource, nil
	}
	return nil, bad("the history of a deleted directory entry holds no version of it")
}

// targetsFailed is the answer when a batch could not be labelled: the
// failure of a target's read as fetchTargets made it, or a 502.
func targetsFailed(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return fail(http.StatusBadGateway, "processing", "a resource from the FHIR server could not be labelled", err)
}

// targetUnreadable is the answer when a target cannot be read: it names
// neither the target nor the upstream's reason.
const targetUnreadable = "a resource this response refers to could not be read from the FHIR server, so the response could not be labelled"

// localReference reports whether ref names a resource of the upstream: a
// relative reference ("Condition/1"), or an absolute one under the
// upstream's base or one of its aliases. Other servers' resources are not
// read.
func (s *Server) localReference(ref string) bool {
	if !strings.Contains(ref, ":") {
		return true // relative
	}
	_, ok := s.localPath(ref)
	return ok
}

// localPath returns what follows the base in an absolute reference under
// the upstream's base, one of its aliases, or one of more (the proxy's own
// base, for a write): scheme and host compare as equivalent spellings of
// one server (sameServer: HTTP://EHR./fhir and http://ehr:80/fhir are
// http://ehr/fhir), the path exactly. The right of access takes a plainer
// spelling only (exactLocalPath).
func (s *Server) localPath(ref string, more ...string) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil || u.Opaque != "" {
		return "", false
	}
	under := func(base *url.URL) (string, bool) {
		if base == nil || !sameServer(u, base) {
			return "", false
		}
		rest, ok := strings.CutPrefix(u.EscapedPath(), strings.TrimRight(base.EscapedPath(), "/")+"/")
		if ok && u.RawQuery != "" {
			rest += "?" + u.RawQuery
		}
		return rest, ok
	}
	if rest, ok := under(s.opts.Upstream); ok {
		return rest, true
	}
	for _, a := range s.opts.UpstreamAliases {
		if rest, ok := under(a); ok {
			return rest, true
		}
	}
	for _, m := range more {
		if b, err := url.Parse(m); err == nil && m != "" {
			if rest, ok := under(b); ok {
				return rest, true
			}
		}
	}
	return "", false
}

// noteWrite records that req updates, patches or deletes a resource: what
// the label cache knows of it may no longer hold.
func (ex *exchange) noteWrite(req fhirRequest) {
	switch req.Interaction {
	case Update, Patch, Delete:
		if req.Type != "" && req.ID != "" {
			ex.written = append(ex.written, req.Type+"/"+req.ID)
		}
	}
}

// forgetWritten makes the label cache forget that the resources the
// request writes passed nothing on: a write through the proxy that gives
// a Condition an SUD code is seen by the next response that refers to it,
// not after the cache's known-TTL.
func (s *Server) forgetWritten(ex *exchange) {
	for _, k := range ex.written {
		typ, id, _ := strings.Cut(k, "/")
		s.labeller.Forget(typ, id)
	}
}
