package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/gin-gonic/gin"
)

// policyRoutes registers the policy tools for compliance staff.
func (s *Server) policyRoutes(admin *gin.RouterGroup) {
	admin.POST("/decide", s.simulateDecide)
	admin.GET("/policy", s.policyStatus)
}

// maxDecideBytes bounds a simulation request.
const maxDecideBytes = 16 << 20

// DecideRequest is the body of POST /admin/decide: a simulated caller and
// the resources to decide for it, inline (FHIR resources, or Bundles whose
// entries are decided). The patients' consents come from the consent store,
// unless Consents (FHIR Consent resources) replace them for a what-if.
type DecideRequest struct {
	Caller struct {
		Subject        string   `json:"subject"`
		Org            string   `json:"org"`
		OrgIdentifiers []string `json:"org_identifiers"`
		Client         string   `json:"client"`
		Scopes         []string `json:"scopes"`
		Purposes       []string `json:"purposes"`
		// BreakGlass is the stated reason of an emergency claim.
		BreakGlass string `json:"break_glass"`
	} `json:"caller"`
	// Interaction is the simulated FHIR interaction (default "search").
	Interaction string `json:"interaction"`
	// Time is the simulated request time (RFC 3339; default now).
	Time string `json:"time"`
	// Patient is the patient of resources that name none.
	Patient   string            `json:"patient"`
	Resources []json.RawMessage `json:"resources"`
	// Consents, when given, replace the stored consents of every patient
	// for this simulation (drafts need not be valid to be stored).
	Consents []json.RawMessage `json:"consents"`
}

// DecideResponse explains, per item, what the policy decided and why.
type DecideResponse struct {
	PolicyRevision string          `json:"policy_revision"`
	Time           time.Time       `json:"time"`
	Classes        int             `json:"classes"`
	Items          []DecidedItem   `json:"items"`
	Consents       []DecideConsent `json:"consents"`
}

// DecidedItem is one resource and its decision.
type DecidedItem struct {
	Type     string          `json:"type"`
	ID       string          `json:"id"`
	Patient  string          `json:"patient"`
	Labels   []string        `json:"labels"`
	Class    int             `json:"class"`
	Decision policy.Decision `json:"decision"`
}

// DecideConsent names a consent version the simulation read.
type DecideConsent struct {
	Patient string `json:"patient"`
	ID      string `json:"id"`
	Version string `json:"version"`
	Status  string `json:"status"`
}

// simulateDecide answers POST /admin/decide. It discloses nothing (the
// caller is the compliance officer, who sent the resources), writes no
// ledger entry, and raises no break-the-glass alarm.
func (s *Server) simulateDecide(c *gin.Context) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxDecideBytes))
	if err != nil {
		writeFailure(c.Writer, classify(err))
		return
	}
	var req DecideRequest
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "the request is not a decide request: "+err.Error())
		return
	}
	resp, err := s.simulate(c.Request.Context(), req)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) && f.Status < 500 {
			writeFailure(c.Writer, f)
			return
		}
		s.log.Error("policy simulation failed", "request_id", c.GetString(requestIDKey), "error", err.Error())
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the simulation failed: "+errString(err))
		return
	}
	c.JSON(http.StatusOK, resp)
}

// simulate runs the pipeline's collect, label and decide stages over the
// request's resources for the simulated caller.
func (s *Server) simulate(ctx context.Context, req DecideRequest) (*DecideResponse, error) {
	at := time.Now().UTC()
	if req.Time != "" {
		t, err := time.Parse(time.RFC3339, req.Time)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "invalid", "time must be an RFC 3339 time", nil)
		}
		at = t.UTC()
	}
	body, err := simulationBundle(req.Resources)
	if err != nil {
		return nil, err
	}
	r := s.simulationRun(req, body, at)
	drafts, err := draftConsents(req.Consents)
	if err != nil {
		return nil, err
	}
	if _, _, err := r.collect(); err != nil {
		return nil, err
	}
	if err := r.labelItems(ctx); err != nil {
		return nil, err
	}
	for _, it := range r.items {
		if it.res.Patient == "" {
			it.res.Patient = req.Patient
		}
	}
	return r.explain(ctx, at, drafts)
}

func (s *Server) simulationRun(req DecideRequest, body []byte, at time.Time) *run {
	rc := req.Caller
	caller := authn.Caller{
		Subject: rc.Subject, Org: rc.Org, OrgIdentifiers: rc.OrgIdentifiers, Client: rc.Client,
		Scopes: rc.Scopes, Purposes: rc.Purposes, BreakGlass: rc.BreakGlass,
	}
	interaction := req.Interaction
	if interaction == "" {
		interaction = "search"
	}
	ex := &exchange{requestID: "simulation", caller: caller, req: fhirRequest{Interaction: interaction}, start: at}
	return &run{
		s: s, ex: ex, body: body, classes: map[string]*class{},
		consents: map[string]patientConsents{}, refs: map[string]audit.ConsentRef{},
	}
}

// simulationBundle wraps the resources in a collection Bundle, the shape
// the pipeline collects from.
func simulationBundle(resources []json.RawMessage) ([]byte, error) {
	if len(resources) == 0 {
		return nil, fail(http.StatusBadRequest, "required", "resources: at least one FHIR resource is required", nil)
	}
	b := []byte(`{"resourceType":"Bundle","type":"collection","entry":[`)
	for i, res := range resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"resource":`...)
		b = append(b, res...)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	if err := fjson.Validate(b, DefaultMaxJSONDepth); err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "resources: not valid JSON", err)
	}
	return b, nil
}

// draftConsents normalises the request's draft consents as the store
// would, by patient; nil when the request has none (the stored ones count).
func draftConsents(drafts []json.RawMessage) (map[string][]any, error) {
	if drafts == nil {
		return nil, nil
	}
	byPatient := map[string][]any{}
	for i, raw := range drafts {
		var head struct {
			ID      string `json:"id"`
			Patient struct {
				Reference string `json:"reference"`
			} `json:"patient"`
		}
		_ = json.Unmarshal(raw, &head)
		id := head.ID
		if id == "" {
			id = fmt.Sprintf("draft-%d", i)
		}
		n, err := consent.Normalize(consent.Record{ID: id, Version: 1, Patient: head.Patient.Reference, JSON: raw})
		if err != nil {
			return nil, fail(http.StatusBadRequest, "invalid", fmt.Sprintf("consents[%d]: %v", i, err), nil)
		}
		byPatient[n.Patient] = append(byPatient[n.Patient], n)
	}
	return byPatient, nil
}

// explain decides each class once and reports every item with its class's
// decision. Drafts replace stored consents; no cache key is set for them,
// so the engine evaluates them afresh.
func (r *run) explain(ctx context.Context, at time.Time, drafts map[string][]any) (*DecideResponse, error) {
	resp := &DecideResponse{PolicyRevision: r.s.decider.Revision(), Time: at, Items: []DecidedItem{}, Consents: []DecideConsent{}}
	index := map[*class]int{}
	for _, it := range r.items {
		key := classKey(it)
		c, ok := r.classes[key]
		if !ok {
			c = &class{patient: it.res.Patient, typ: it.res.Type, labels: it.res.Labels}
			if drafts != nil {
				r.consents[c.patient] = patientConsents{values: nonNilAny(drafts[c.patient])}
			}
			if err := r.evaluate(ctx, c, at.UnixNano()); err != nil {
				return nil, err
			}
			r.classes[key] = c
			index[c] = len(index)
		}
		resp.Items = append(resp.Items, DecidedItem{
			Type: it.res.Type, ID: it.res.ID, Patient: it.res.Patient,
			Labels: labelStrings(it.res.Labels), Class: index[c], Decision: c.decision,
		})
	}
	resp.Classes = len(index)
	for patient, cs := range r.consents {
		for _, v := range cs.values {
			if n := normalizedOf(v); n != nil {
				resp.Consents = append(resp.Consents, DecideConsent{Patient: patient, ID: n.ID, Version: n.Version, Status: n.Status})
			}
		}
	}
	return resp, nil
}

func nonNilAny(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func normalizedOf(v any) *consent.Normalized {
	switch n := v.(type) {
	case *consent.Normalized:
		return n
	case consent.Normalized:
		return &n
	}
	return nil
}

// policyStatus answers GET /admin/policy: the revision in force, where it
// comes from, and the last rejected revision, if any.
func (s *Server) policyStatus(c *gin.Context) {
	type statuser interface{ Status() policy.Status }
	st, ok := s.decider.(statuser)
	if !ok {
		c.JSON(http.StatusOK, gin.H{"revision": s.decider.Revision()})
		return
	}
	c.JSON(http.StatusOK, st.Status())
}
