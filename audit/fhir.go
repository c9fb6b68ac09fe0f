package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// FHIR code systems and BALP profiles used by AuditEvent.
const (
	balpPatientRead   = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead"
	balpPatientQuery  = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientQuery"
	balpQuery         = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Query"
	balpPatientCreate = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientCreate"
	balpPatientUpdate = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientUpdate"
	balpPatientDelete = "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientDelete"
	sysEventType      = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysInteraction    = "http://hl7.org/fhir/restful-interaction"
	sysDICOM          = "http://dicom.nema.org/resources/ontology/DCM"
	sysParticipation  = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysSourceType     = "http://terminology.hl7.org/CodeSystem/security-source-type"
	sysEntityType     = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole     = "http://terminology.hl7.org/CodeSystem/object-role"
	sysActReason      = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	// SourceObserver names the proxy as the audit source.
	SourceObserver = "ds4p"
)

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// CodeableConcept is a FHIR CodeableConcept.
type CodeableConcept struct {
	Coding []Coding `json:"coding"`
}

// Reference is a FHIR Reference.
type Reference struct {
	Reference  string      `json:"reference,omitempty"`
	Type       string      `json:"type,omitempty"`
	Identifier *Identifier `json:"identifier,omitempty"`
	Display    string      `json:"display,omitempty"`
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	Value string `json:"value"`
}

// AuditAgent is AuditEvent.agent.
type AuditAgent struct {
	Type         *CodeableConcept  `json:"type,omitempty"`
	Who          *Reference        `json:"who,omitempty"`
	Name         string            `json:"name,omitempty"`
	Requestor    bool              `json:"requestor"`
	PurposeOfUse []CodeableConcept `json:"purposeOfUse,omitempty"`
}

// AuditSource is AuditEvent.source.
type AuditSource struct {
	Site     string    `json:"site,omitempty"`
	Observer Reference `json:"observer"`
	Type     []Coding  `json:"type,omitempty"`
}

// AuditEntity is AuditEvent.entity.
type AuditEntity struct {
	What          *Reference    `json:"what,omitempty"`
	Type          *Coding       `json:"type,omitempty"`
	Role          *Coding       `json:"role,omitempty"`
	SecurityLabel []Coding      `json:"securityLabel,omitempty"`
	Description   string        `json:"description,omitempty"`
	Query         []byte        `json:"query,omitempty"` // base64Binary: encoding/json writes base64
	Detail        []EntityValue `json:"detail,omitempty"`
}

// EntityValue is AuditEvent.entity.detail with a string value.
type EntityValue struct {
	Type        string `json:"type"`
	ValueString string `json:"valueString"`
}

// Meta is Resource.meta with profiles.
type Meta struct {
	Profile []string `json:"profile,omitempty"`
}

// AuditEvent is a FHIR R4 AuditEvent following IHE BALP.
type AuditEvent struct {
	ResourceType   string            `json:"resourceType"`
	ID             string            `json:"id"`
	Meta           Meta              `json:"meta,omitzero"`
	Type           Coding            `json:"type"`
	Subtype        []Coding          `json:"subtype,omitempty"`
	Action         string            `json:"action"`
	Recorded       string            `json:"recorded"`
	Outcome        string            `json:"outcome"`
	PurposeOfEvent []CodeableConcept `json:"purposeOfEvent,omitempty"`
	Agent          []AuditAgent      `json:"agent"`
	Source         AuditSource       `json:"source"`
	Entity         []AuditEntity     `json:"entity"`
}

// BundleEntry is Bundle.entry holding an AuditEvent.
type BundleEntry struct {
	FullURL  string     `json:"fullUrl,omitempty"`
	Resource AuditEvent `json:"resource"`
}

// Bundle is a FHIR Bundle of AuditEvents.
type Bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp"`
	Total        *int          `json:"total,omitempty"`
	Link         []BundleLink  `json:"link,omitempty"`
	Entry        []BundleEntry `json:"entry"`
}

// BundleLink is Bundle.link.
type BundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

// AuditEventBundle returns entries as a Bundle of type collection, one
// AuditEvent each, stamped at now.
func AuditEventBundle(entries []Entry, now time.Time) Bundle {
	b := Bundle{ResourceType: "Bundle", Type: "collection", Timestamp: now.UTC().Format(time.RFC3339), Entry: make([]BundleEntry, 0, len(entries))}
	for _, e := range entries {
		b.Entry = append(b.Entry, BundleEntry{Resource: AuditEventOf(e)})
	}
	return b
}

// AuditEventOf renders e as a BALP AuditEvent: PatientRead for a read or
// vread, PatientQuery otherwise; type rest with the FHIR interaction as
// subtype; outcome 0 (success: the entry records what was disclosed); the
// client as Source Role ID, the proxy as Destination Role ID and the
// recipient (subject, organisation) as requestor agents with the purposes of
// use; the proxy as source observer; the patient as entity (type 1 Person,
// role 1 Patient) and each disclosed resource as entity (type 2 System
// Object, role 4 Domain Resource) with its security labels. A
// break-the-glass disclosure adds purposeOfEvent BTG and the stated reason
// as a detail of the patient entity. Withheld resources are not disclosures
// and do not appear. An auditor's read of the ledger (AuditRead) is a BALP
// PatientQuery when the auditor named a patient, else a Query, subtype
// search, with a query entity (type 2, role 24) holding the request as
// recorded, base64; an entry of no patient names no patient entity.
func AuditEventOf(e Entry) AuditEvent {
	profile, subtype, action := balpKind(e.Interaction, e.Query)
	purposes := purposeConcepts(e.Purposes)
	ae := AuditEvent{
		ResourceType: "AuditEvent", ID: fmt.Sprintf("ds4p-%d", e.Seq),
		Type:    Coding{System: sysEventType, Code: "rest", Display: "Restful Operation"},
		Subtype: []Coding{{System: sysInteraction, Code: subtype}}, Action: action,
		Recorded: e.Time.UTC().Format(time.RFC3339Nano), Outcome: "0", PurposeOfEvent: purposes,
		Agent:  agents(e, purposes),
		Source: AuditSource{Site: SourceObserver, Observer: Reference{Display: SourceObserver}, Type: []Coding{{System: sysSourceType, Code: "4", Display: "Application Server"}}},
		Entity: entities(e),
	}
	if profile == balpPatientQuery && e.Patient == "" { // no patient to name: a Query
		profile = balpQuery
	}
	if profile != "" {
		ae.Meta = Meta{Profile: []string{profile}}
	}
	if e.BreakGlass != nil {
		ae.PurposeOfEvent = append(ae.PurposeOfEvent, CodeableConcept{Coding: []Coding{{System: sysActReason, Code: "BTG", Display: "break the glass"}}})
	}
	return ae
}

// balpKind maps an interaction (and, for a history or search, the level
// its query path names) to the BALP profile, the restful-interaction code
// and the action code: a write that returned the patient's data is
// PatientCreate (C), PatientUpdate (U, update or patch) or PatientDelete
// (D), not a query. A batch and a policy simulation (POST /admin/decide)
// follow no BALP profile and name none. The profile is "" then.
func balpKind(interaction, query string) (profile, subtype, action string) {
	switch interaction {
	case "read", "vread":
		return balpPatientRead, interaction, "R"
	case "create":
		return balpPatientCreate, "create", "C"
	case "update", "patch":
		return balpPatientUpdate, interaction, "U"
	case "delete":
		return balpPatientDelete, "delete", "D"
	case "history":
		return balpPatientQuery, historyLevel(query), "R"
	case "operation":
		return balpPatientQuery, "operation", "E"
	case "batch", "transaction":
		return "", interaction, "E"
	case "simulate":
		return "", "operation", "E"
	case AuditRead:
		return balpPatientQuery, "search", "E"
	}
	if path := queryPath(query); query != "" && (path == "" || path == "_search") { // a query not recorded: search-type
		return balpPatientQuery, "search-system", "E"
	}
	return balpPatientQuery, "search-type", "E"
}

// queryPath is the path of a ledger query ("/Observation?patient=x"),
// without its query string and slashes around it.
func queryPath(query string) string {
	path, _, _ := strings.Cut(query, "?")
	return strings.Trim(path, "/")
}

// historyLevel is history-system, -type or -instance by the segments
// before _history in the query's path (instance when it names none).
func historyLevel(query string) string {
	segs := strings.Split(queryPath(query), "/")
	switch i := slices.Index(segs, "_history"); i {
	case 0:
		return "history-system"
	case 1:
		return "history-type"
	}
	return "history-instance"
}

// purposeConcepts are the purposes of use as v3-ActReason concepts.
func purposeConcepts(purposes []string) []CodeableConcept {
	out := make([]CodeableConcept, 0, len(purposes))
	for _, p := range purposes {
		out = append(out, CodeableConcept{Coding: []Coding{{System: sysActReason, Code: p}}})
	}
	return out
}

// agents are the client (source), the proxy (destination), the recipient
// user and the recipient organisation.
func agents(e Entry, purposes []CodeableConcept) []AuditAgent {
	d := DisclosureOf(e)
	out := []AuditAgent{
		{Type: concept(sysDICOM, "110153", "Source Role ID"), Who: &Reference{Identifier: identifier(firstNonEmpty(e.Caller.Client, "unknown"))}},
		{Type: concept(sysDICOM, "110152", "Destination Role ID"), Who: &Reference{Display: SourceObserver}},
		{Type: concept(sysParticipation, "IRCP", "information recipient"), Who: reference(d.Recipient.Subject, d.Recipient.Name), Name: d.Recipient.Name, Requestor: true, PurposeOfUse: purposes},
	}
	if d.Recipient.Organization != "" {
		out = append(out, AuditAgent{Type: concept(sysParticipation, "IRCP", "information recipient"), Who: reference(d.Recipient.Organization, ""), Requestor: false})
	}
	return out
}

// entities are the patient (when the entry names one), an auditor's
// read's query, and each disclosed resource.
func entities(e Entry) []AuditEntity {
	out := []AuditEntity{}
	if e.Patient != "" {
		patient := AuditEntity{
			What: &Reference{Reference: e.Patient},
			Type: &Coding{System: sysEntityType, Code: "1", Display: "Person"},
			Role: &Coding{System: sysObjectRole, Code: "1", Display: "Patient"},
		}
		if e.BreakGlass != nil {
			patient.Detail = []EntityValue{{Type: "break-glass-reason", ValueString: e.BreakGlass.Reason}}
		}
		out = append(out, patient)
	}
	if e.Interaction == AuditRead {
		// BALP's query entity: the request as recorded (path and query
		// string), base64 (encoding/json writes []byte so), and as its
		// description. A disclosure's query is not exported: it goes to
		// the patient in an accounting, and may name other patients.
		out = append(out, AuditEntity{
			Type:        &Coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role:        &Coding{System: sysObjectRole, Code: "24", Display: "Query"},
			Description: e.Query, Query: []byte(e.Query),
		})
	}
	for _, it := range e.Disclosed {
		what := &Reference{Reference: itemRef(it)}
		if it.ID == "" { // no literal reference to give: its type, and what it was
			what = &Reference{Type: it.Type, Display: itemRef(it)}
		}
		out = append(out, AuditEntity{
			What:          what,
			Type:          &Coding{System: sysEntityType, Code: "2", Display: "System Object"},
			Role:          &Coding{System: sysObjectRole, Code: "4", Display: "Domain Resource"},
			SecurityLabel: labelCodings(it.Labels),
		})
	}
	return out
}

// labelCodings turns "system|code" labels into Codings.
func labelCodings(labels []string) []Coding {
	out := make([]Coding, 0, len(labels))
	for _, l := range labels {
		system, code, ok := strings.Cut(l, "|")
		if !ok {
			system, code = "", l
		}
		out = append(out, Coding{System: system, Code: code})
	}
	return out
}

// concept is a CodeableConcept of one coding.
func concept(system, code, display string) *CodeableConcept {
	return &CodeableConcept{Coding: []Coding{{System: system, Code: code, Display: display}}}
}

// identifier is an Identifier with a value.
func identifier(v string) *Identifier { return &Identifier{Value: v} }

// reference points at a relative reference ("Type/id") or, for other
// subject strings, identifies by value.
func reference(who, display string) *Reference {
	if typ, id, ok := strings.Cut(who, "/"); ok && typ != "" && id != "" && !strings.Contains(id, "/") && typ[0] >= 'A' && typ[0] <= 'Z' {
		return &Reference{Reference: who, Display: display}
	}
	return &Reference{Identifier: identifier(firstNonEmpty(who, "unknown")), Display: display}
}
