package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
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
		// FHIRUser is the token's fhirUser (Patient/ID simulates the
		// patient reading their own record).
		FHIRUser string `json:"fhir_user"`
		// IssuedAt and ExpiresAt are the iat and exp (RFC 3339) of the
		// token carrying the claim; by default a token issued a minute
		// before Time that lives 15 minutes. "none" simulates a token
		// without the claim.
		IssuedAt  string `json:"issued_at"`
		ExpiresAt string `json:"expires_at"`
	} `json:"caller"`
	// Interaction is the simulated FHIR interaction (default "search").
	Interaction string `json:"interaction"`
	// Time is the simulated request time (RFC 3339; default now).
	Time string `json:"time"`
	// Patient is the patient of resources that name none.
	Patient   string            `json:"patient"`
	Resources []json.RawMessage `json:"resources"`
	// Query, when set, fetches resources from the upstream FHIR server
	// through the proxy's upstream client: a FHIR read, search or
	// operation path below the FHIR base, with its query string
	// ("Observation?patient=Patient/p1", "Patient/p1/$everything"). The
	// first page of the answer is decided like inline resources (which may
	// be given too); nothing of it is returned but the decisions, and the
	// simulated interaction and type default to the query's.
	Query string `json:"query"`
	// Consents, when given, replace the stored consents of every patient
	// for this simulation (drafts need not be valid to be stored).
	Consents []json.RawMessage `json:"consents"`
}

// DecideResponse explains, per item, what the policy decided and why.
type DecideResponse struct {
	// Warnings are mistakes in the request the simulation went on with
	// (a purpose that is not a v3-PurposeOfUse code, say).
	Warnings       []string        `json:"warnings,omitempty"`
	PolicyRevision string          `json:"policy_revision"`
	RulesRevision  string          `json:"rules_revision"` // the label rules that labelled the items
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

// simulateDecide answers POST /admin/decide. It discloses nothing to the
// simulated caller and raises no break-the-glass alarm. Resources the
// policy author sent are their own and leave no trace; resources fetched
// from the FHIR server (query) show the author which patient has which
// labelled data, so that access is recorded in the ledger (recordSimulation)
// before the answer goes out, and the answer is withheld when it cannot be.
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
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "the request is not a decide request: "+decodeProblem(err))
		return
	}
	if req.Interaction != "" && !slices.Contains(simulatedInteractions, req.Interaction) {
		// The policy input's request.interaction is one of these
		// (rego/schema/input.schema.json): a policy would read another
		// as a request it does not know, and the author would take its
		// answer for the policy's (QA round 16: "DROP TABLE" was 200).
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", fmt.Sprintf("interaction %q is not a FHIR interaction the proxy tells apart; use one of %s", req.Interaction, strings.Join(simulatedInteractions, ", ")))
		return
	}
	if req.Patient != "" {
		// "pat-1" is Patient/pat-1, as the audit API reads it: a bare id
		// kept as it is named no patient the proxy would decide for.
		p, err := audit.PatientRef(req.Patient)
		if err != nil {
			writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
			return
		}
		req.Patient = p
	}
	resp, err := s.simulate(c.Request.Context(), req, callerOf(c), c.GetString(requestIDKey))
	if err != nil {
		var f *Failure
		if errors.As(err, &f) && (f.Status < 500 || f.Status == http.StatusBadGateway) {
			if f.Status >= 500 {
				s.log.Warn("policy simulation: the upstream fetch failed", "request_id", c.GetString(requestIDKey), "status", f.Status)
			}
			writeFailure(c.Writer, f)
			return
		}
		s.log.Error("policy simulation failed", "request_id", c.GetString(requestIDKey), "error", errString(err))
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the simulation failed: "+errString(err))
		return
	}
	c.JSON(http.StatusOK, resp)
}

// simulatedInteractions are the interactions a simulation may name: those
// of the policy input (rego/schema/input.schema.json request.interaction).
var simulatedInteractions = []string{Read, VRead, Search, History, Operation, Create, Update, Patch, Delete, Batch, Capabilities}

// decodeProblem says what is wrong with a decide request body in the
// request's own terms, not Go's.
func decodeProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "the body"
		}
		return fmt.Sprintf("%s has a JSON %s where a %s is expected", field, typ.Value, jsonKind(typ.Type.Kind().String()))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + name + " (a decide request has caller, interaction, time, patient, resources, query and consents; " +
			"caller has subject, org, org_identifiers, client, scopes, purposes, break_glass, issued_at and expires_at)"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKind names a Go kind as the JSON type it decodes from.
func jsonKind(kind string) string {
	switch kind {
	case "slice", "array":
		return "list"
	case "struct", "map":
		return "object"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	}
	return "number"
}

// simulatedPurposes reads a simulated caller's purposes as a token's are
// read (authn.NormalizePurpose: a v3-ActReason system|code gives the code,
// another system's code stays unknown).
func simulatedPurposes(purposes []string) []string {
	out := make([]string, 0, len(purposes))
	for _, p := range purposes {
		out = append(out, authn.NormalizePurpose(p))
	}
	return out
}

// purposeWarnings names the simulated caller's purposes that are not
// v3-PurposeOfUse codes: the policy reads them as unknown, which a policy
// author would otherwise take for a policy decision.
func purposeWarnings(purposes []string) []string {
	var out []string
	for i, p := range purposes {
		if labels.KnownPurpose(p) {
			continue
		}
		w := fmt.Sprintf("caller.purposes[%d] %q is not a v3-PurposeOfUse code (codes are case-sensitive)", i, p)
		if s := labels.SuggestCode(labels.SystemActReason, p); s != "" {
			w += fmt.Sprintf("; did you mean %q?", s)
		}
		out = append(out, w+" The policy reads it as an unknown purpose.")
	}
	return out
}

// simulate runs the pipeline's collect, label and decide stages over the
// request's resources for the simulated caller.
func (s *Server) simulate(ctx context.Context, req DecideRequest, author authn.Caller, requestID string) (*DecideResponse, error) {
	at := time.Now().UTC()
	if req.Time != "" {
		t, err := time.Parse(time.RFC3339, req.Time)
		if err != nil {
			return nil, fail(http.StatusBadRequest, "invalid", "time must be an RFC 3339 time", nil)
		}
		// The policy reads the time in unix nanoseconds, which end in 2262
		// and begin in 1677: a time outside wrapped around, and the
		// policy decided for another century (QA round 20: 2300 was
		// decided as of 1716, before every consent's period).
		if t.Before(time.Unix(0, math.MinInt64)) || t.After(time.Unix(0, math.MaxInt64)) {
			return nil, fail(http.StatusBadRequest, "invalid", "time must be between 1678 and 2262, the times the policy can read", nil)
		}
		at = t.UTC()
	}
	resources := req.Resources
	// The inline resources are the policy author's own: a malformed one is
	// their mistake (400, which one), not the FHIR server's (502).
	for i, raw := range resources {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(raw, &head); err != nil || head.ResourceType == "" {
			return nil, fail(http.StatusBadRequest, "invalid", fmt.Sprintf("resources[%d] is not a FHIR resource (a JSON object with a resourceType)", i), nil)
		}
	}
	var fetched *fhirRequest
	if req.Query != "" {
		fr, body, err := s.fetchForSimulation(ctx, req.Query)
		if err != nil {
			return nil, err
		}
		fetched = &fr
		resources = append(slices.Clip(resources), body)
	}
	body, fetchedAt, err := simulationBundle(resources)
	if err != nil {
		return nil, err
	}
	r, err := s.simulationRun(req, body, at)
	if err != nil {
		return nil, err
	}
	if fetched != nil {
		if req.Interaction == "" {
			r.ex.req.Interaction = fetched.Interaction
		}
		r.ex.req.Type = fetched.Type
	}
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
		// The request's patient is that of the inline resources that name
		// none; a fetched resource keeps its own (none, if it names none),
		// or the ledger would record it as disclosed about another
		// patient (QA: a Task fetched with patient p-sud was recorded as
		// p-sud's).
		if it.res.Patient == "" && (fetched == nil || it.start < fetchedAt) {
			it.res.Patient = req.Patient
		}
	}
	resp, err := r.explain(ctx, at, drafts)
	if err != nil {
		return nil, err
	}
	resp.Warnings = purposeWarnings(simulatedPurposes(req.Caller.Purposes))
	if authn.BreakGlassReason(req.Caller.BreakGlass) != "" && emergencyWrite(r.ex.req.Interaction) {
		resp.Warnings = append(resp.Warnings, "interaction "+r.ex.req.Interaction+" is decided without the break_glass claim: a medical emergency permits disclosing a record (42 CFR 2.51), not changing or deleting it; the write guard reads the stored version so")
	}
	fetchedFrom := -1 // no item was fetched
	if fetched != nil {
		fetchedFrom = fetchedAt
	}
	var stored map[string]patientConsents
	if drafts == nil {
		stored = r.consents // every patient's were read from the consent store
	}
	if err := s.recordSimulation(ctx, r, fetchedFrom, stored, author, requestID, req.Query); err != nil {
		return nil, err
	}
	return resp, nil
}

// recordSimulation writes one ledger entry per patient whose data or
// stored consents the simulation showed the policy author: the author is
// the recipient, with their own token's purposes; the interaction is
// "simulate" and the query is what they asked for (none for inline
// resources).
//
// Fetched items (from byte fetchedAt of the run's body on; none when it
// is negative) count as disclosed to the author, since the answer names
// their type, id and labels whatever the simulated decision; an item that
// names several patients is recorded in the entry of each, as the
// response path records it. Stored consents (stored: the patients whose
// consents were read from the consent store, by patient) count as
// disclosed too, as Consent items, and are the entry's consents: the
// answer lists them and its reasons name their provisions, and the
// decisions alone tell whether a patient consented to a recipient. Under
// 42 CFR Part 2 the existence of such a consent says the patient is in
// SUD treatment, so a policy author who simulates inline resources
// against a patient's stored consents is recorded as one who fetched that
// patient's data is (QA round 16: it was not, and a policy author could
// enumerate patients with Part 2 consents unseen). A patient whose
// consents were looked up and who has none is recorded too (the answer
// says so, and a run of such lookups is what an auditor would look for).
// The reference targets read from the server to label the items (inline
// ones too) count as disclosed, as fetched items do. Resources the author
// sent, and draft consents, are the author's own and leave no trace.
func (s *Server) recordSimulation(ctx context.Context, r *run, fetchedAt int, stored map[string]patientConsents, author authn.Caller, requestID, query string) error {
	byPatient := map[string]*audit.Entry{}
	var order []string
	now := time.Now().UTC()
	revision, rules := r.policyRevision(), r.rulesRevision()
	entry := func(patient string) *audit.Entry {
		e, ok := byPatient[patient]
		if !ok {
			e = &audit.Entry{
				Time: now, RequestID: requestID,
				Caller:   audit.Party{Subject: author.Subject, Org: author.Org, Client: author.Client, Name: author.OrgName, Address: author.OrgAddress},
				Purposes: author.Purposes, Patient: ledgerPatient(patient),
				Interaction: "simulate", Query: query, PolicyRevision: revision, RulesRevision: rules,
				Disclosed: []audit.Item{}, Withheld: []audit.Item{}, Consents: []audit.ConsentRef{},
			}
			byPatient[patient] = e
			order = append(order, patient)
		}
		return e
	}
	for _, it := range r.items {
		if fetchedAt < 0 || it.start < fetchedAt {
			continue
		}
		ai := audit.Item{Type: it.res.Type, ID: it.res.ID, Version: it.res.VersionID, Labels: r.labelStrings(it.res.Labels)}
		if len(it.res.Patients) <= 1 {
			e := entry(it.res.Patient)
			e.Disclosed = append(e.Disclosed, ai)
			continue
		}
		for _, p := range it.res.Patients {
			e := entry(p)
			e.Disclosed = append(e.Disclosed, ai)
		}
	}
	// The targets read from the server to label the items, inline ones
	// too: an item's labels in the answer are theirs, whatever the
	// author sent (QA round 35, area D: an inline order naming the
	// server's Condition/sud1 as its reason told the author that sud1 is
	// an opioid use disorder, and nothing was recorded).
	if len(r.targets) > 0 {
		targets, err := r.s.labeller.Uncached().LabelAll(r.targets)
		if err != nil {
			return fail(http.StatusBadGateway, "processing", "the simulation read a resource that could not be labelled; its answer was withheld", err)
		}
		for i := range targets {
			t := &targets[i]
			ai := audit.Item{Type: t.Type, ID: t.ID, Version: t.VersionID, Labels: r.labelStrings(t.Labels)}
			ps := t.Patients
			if len(ps) <= 1 {
				ps = []string{t.Patient}
			}
			for _, p := range ps {
				e := entry(p)
				e.Disclosed = append(e.Disclosed, ai)
			}
		}
	}
	patients := make([]string, 0, len(stored))
	for p := range stored {
		if p != "" && !placeholderPatient(p) {
			patients = append(patients, p)
		}
	}
	slices.Sort(patients)
	for _, p := range patients {
		e := entry(p)
		for _, v := range stored[p].values {
			if n := normalizedOf(v); n != nil {
				e.Disclosed = append(e.Disclosed, audit.Item{Type: "Consent", ID: n.ID, Version: n.Version, Labels: []string{}})
				e.Consents = append(e.Consents, audit.ConsentRef{ID: n.ID, Version: n.Version})
			}
		}
	}
	if len(order) == 0 {
		return nil
	}
	entries := make([]audit.Entry, 0, len(order))
	for _, p := range order {
		entries = append(entries, *byPatient[p])
	}
	// Simulations count towards bulk-access detection as reads do: a policy
	// author simulating against patient after patient learns which have
	// Part 2 consents (QA round 19: none was ever counted).
	alert := s.bulkCheck(&exchange{caller: author, requestID: requestID}, entries)
	if alert != nil {
		for i := range entries {
			entries[i].Alert = alert.ID
		}
	}
	if err := s.ledger.Append(ctx, entries...); err != nil {
		s.raiseAlert(ctx, alert) // counted already, as recordEntries says
		return fail(http.StatusInternalServerError, "exception", "the simulation read patient data that could not be recorded; its answer was withheld", err)
	}
	if alert != nil {
		s.raiseAlert(ctx, alert)
	}
	return nil
}

func (s *Server) simulationRun(req DecideRequest, body []byte, at time.Time) (*run, error) {
	rc := req.Caller
	// The emergency reason is read as a token's is (authn.BreakGlassReason),
	// so a simulation answers what the same token would get.
	caller := authn.Caller{
		Subject: rc.Subject, Org: rc.Org, OrgIdentifiers: rc.OrgIdentifiers, Client: rc.Client,
		Scopes: rc.Scopes, Purposes: simulatedPurposes(rc.Purposes), BreakGlass: authn.BreakGlassReason(rc.BreakGlass),
	}
	if a, ok := s.auth.(interface {
		ClientAllowed(client string, purposes []string) []string
	}); ok { // auth.client_purposes, as for the client's tokens
		caller.Purposes = a.ClientAllowed(caller.Client, caller.Purposes)
	}
	if rc.FHIRUser != "" {
		if caller.FHIRUser = authn.FHIRUserRef(rc.FHIRUser); caller.FHIRUser == "" {
			return nil, fail(http.StatusBadRequest, "invalid", "caller.fhir_user must be a reference to a Patient, Practitioner, PractitionerRole, RelatedPerson or Person (Type/id or an absolute URL)", nil)
		}
	}
	if strings.HasPrefix(caller.FHIRUser, "Patient/") || personUser(caller.FHIRUser) {
		caller.BreakGlass = "" // as the edge ignores a patient's own claim, or a RelatedPerson's or a Person's
	}
	var err error
	if caller.IssuedAt, err = simulatedTokenTime(rc.IssuedAt, at.Add(-time.Minute)); err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "caller.issued_at must be an RFC 3339 time or \"none\"", nil)
	}
	if caller.Expiry, err = simulatedTokenTime(rc.ExpiresAt, at.Add(14*time.Minute)); err != nil {
		return nil, fail(http.StatusBadRequest, "invalid", "caller.expires_at must be an RFC 3339 time or \"none\"", nil)
	}
	interaction := req.Interaction
	if interaction == "" {
		interaction = "search"
	}
	if emergencyWrite(interaction) {
		caller.BreakGlass = "" // as the write guard decides the stored version (withoutEmergency)
	}
	ex := &exchange{requestID: "simulation", caller: caller, req: fhirRequest{Interaction: interaction}, start: at, explain: true}
	return &run{
		s: s, ex: ex, body: body, valid: true, classes: map[string]*class{}, // simulationBundle validated body
		consents: map[string]patientConsents{}, refs: map[string]audit.ConsentRef{}, rulesRev: s.labeller.Revision(),
	}, nil
}

// emergencyWrite reports whether a simulated interaction is a write the
// proxy decides without the caller's emergency claim (writeguard.go
// withoutEmergency).
func emergencyWrite(interaction string) bool {
	return interaction == Update || interaction == Patch || interaction == Delete
}

// simulatedTokenTime reads a simulated iat or exp: def when empty, the zero
// time for "none".
func simulatedTokenTime(s string, def time.Time) (time.Time, error) {
	switch s {
	case "":
		return def, nil
	case "none":
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}

// fetchForSimulation reads query (a FHIR path below the base, with its query
// string) from the upstream, as the pipeline would for a GET: the path must
// be a FHIR read, search or operation and passes the same search guards.
// Only the first page is read.
func (s *Server) fetchForSimulation(ctx context.Context, query string) (fhirRequest, json.RawMessage, error) {
	path, rawQuery, _ := strings.Cut(query, "?")
	req, err := parseFHIRPath(http.MethodGet, path)
	if err != nil {
		return fhirRequest{}, nil, fail(http.StatusBadRequest, "invalid", "query: not a FHIR REST path below the base", nil)
	}
	switch req.Interaction {
	case "read", "vread", "search", "history", "operation":
	default:
		return fhirRequest{}, nil, fail(http.StatusBadRequest, "invalid", "query: must read, search or run an operation", nil)
	}
	rawQuery, f := s.guardRawQuery(req, rawQuery, false)
	if f != nil {
		return fhirRequest{}, nil, f
	}
	u := s.upBase + "/" + req.Path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.UpstreamTimeout)
	defer cancel()
	up, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fhirRequest{}, nil, fail(http.StatusBadRequest, "invalid", "query: not a valid request", nil)
	}
	up.Header.Set("Accept", "application/fhir+json")
	resp, err := s.client.Do(up)
	if err != nil {
		return fhirRequest{}, nil, fail(http.StatusBadGateway, "transient", "query: the FHIR server could not be reached", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBodyBytes+1))
	if err != nil {
		return fhirRequest{}, nil, fail(http.StatusBadGateway, "transient", "query: the FHIR server's answer could not be read", err)
	}
	if int64(len(body)) > s.opts.MaxBodyBytes {
		return fhirRequest{}, nil, fail(http.StatusBadGateway, "too-costly", "query: the FHIR server's answer is larger than the proxy accepts", nil)
	}
	if resp.StatusCode != http.StatusOK {
		return fhirRequest{}, nil, fail(http.StatusBadGateway, "processing", fmt.Sprintf("query: the FHIR server answered %d", resp.StatusCode), nil)
	}
	if err := fjson.Validate(body, DefaultMaxJSONDepth); err != nil {
		return fhirRequest{}, nil, fail(http.StatusBadGateway, "processing", "query: the FHIR server answered with invalid JSON", err)
	}
	return req, body, nil
}

// simulationBundle wraps the resources in a collection Bundle, the shape
// the pipeline collects from, and returns where the last resource starts.
func simulationBundle(resources []json.RawMessage) ([]byte, int, error) {
	if len(resources) == 0 {
		return nil, 0, fail(http.StatusBadRequest, "required", "resources or query: at least one FHIR resource is required", nil)
	}
	b := []byte(`{"resourceType":"Bundle","type":"collection","entry":[`)
	last := 0
	for i, res := range resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"resource":`...)
		last = len(b)
		b = append(b, res...)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	if err := fjson.Validate(b, DefaultMaxJSONDepth); err != nil {
		return nil, 0, fail(http.StatusBadRequest, "invalid", "resources: not valid JSON", err)
	}
	return b, last, nil
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
		// As the store would check it: a draft the store would refuse (a
		// mistyped label, say) is not simulated as if it worked.
		if _, err := consent.Validate(raw); err != nil {
			return nil, fail(http.StatusBadRequest, "invalid", fmt.Sprintf("consents[%d]: %v", i, err), nil)
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
	resp := &DecideResponse{Time: at, Items: []DecidedItem{}, Consents: []DecideConsent{}}
	index := map[*class]int{}
	now := at.UnixNano()
	var referred []*item
	for _, it := range r.items {
		// Drafts replace the stored consents of every patient, each
		// patient of an item naming several too (their stored consents
		// were read otherwise).
		for _, p := range append([]string{it.res.Patient}, it.res.Patients...) {
			if _, seen := r.consents[p]; drafts != nil && !seen && p != "" {
				r.consents[p] = newPatientConsents(nonNilAny(drafts[p]), "")
			}
		}
		if it.res.Referred() { // decided as the response pipeline decides it (decide.go)
			referred = append(referred, it)
			continue
		}
		c, err := r.itemClass(ctx, it, now)
		if err != nil {
			return nil, err
		}
		it.class = c
	}
	if err := r.decideReferred(ctx, referred, now); err != nil {
		return nil, err
	}
	for _, it := range r.items {
		c := it.class
		if _, ok := index[c]; !ok {
			index[c] = len(index)
		}
		resp.Items = append(resp.Items, DecidedItem{
			Type: it.res.Type, ID: it.res.ID, Patient: it.res.Patient,
			Labels: labelStrings(it.res.Labels), Class: index[c], Decision: c.decision,
		})
	}
	resp.Classes = len(index)
	resp.PolicyRevision = r.policyRevision() // of the decisions, should a reload land during them
	resp.RulesRevision = r.rulesRevision()
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
		c.JSON(http.StatusOK, gin.H{"revision": s.decider.Revision(), "label_rules_revision": s.labeller.Revision()})
		return
	}
	c.JSON(http.StatusOK, policyStatusResponse{Status: st.Status(), LabelRulesRevision: s.labeller.Revision()})
}

// policyStatusResponse is GET /admin/policy's answer: the policy's status
// and the label rules revision in force (labels.Labeller.Revision), which
// ledger entries name beside the policy revision.
type policyStatusResponse struct {
	policy.Status
	LabelRulesRevision string `json:"label_rules_revision"`
}
