package proxy

import (
	"net/http"
	"strings"
)

// Interactions the proxy tells apart.
const (
	Capabilities = "capabilities"
	Read         = "read"
	VRead        = "vread"
	Search       = "search"
	History      = "history"
	Operation    = "operation"
	Create       = "create"
	Update       = "update"
	Patch        = "patch"
	Delete       = "delete"
	Batch        = "batch"
)

// fhirRequest is what a FHIR REST path asks for.
type fhirRequest struct {
	Interaction string
	Type        string // resource type, "" at system level
	ID          string
	VersionID   string
	Operation   string // "$everything" ...
	Path        string // the path below the FHIR base, validated
}

// parseFHIRPath classifies method + the path below the FHIR base. Every
// segment must look like a FHIR type, id, version, operation or keyword, so
// that no path (dot segments, encoded slashes, backslashes) can reach the
// upstream outside its FHIR base.
func parseFHIRPath(method, rest string) (fhirRequest, error) {
	rest = strings.Trim(rest, "/")
	var buf [4]string
	segs := splitPath(buf[:0], rest)
	for _, s := range segs {
		if !validSegment(s) {
			return fhirRequest{}, fail(http.StatusBadRequest, "invalid", "the request path is not a FHIR REST path", nil)
		}
	}
	r, ok := classify3(method, segs)
	if !ok {
		return fhirRequest{}, fail(http.StatusBadRequest, "not-supported", "the request is not a FHIR REST interaction the proxy supports", nil)
	}
	r.Path = rest
	return r, nil
}

// splitPath is strings.Split(rest, "/") (none for ""), into dst when
// that has room for every segment: a request's path is parsed several
// times (the handler, rate limits, scopes), and a FHIR REST path has at
// most four segments, so a caller's array on its stack saves each parse
// an allocation.
func splitPath(dst []string, rest string) []string {
	if rest == "" {
		return nil
	}
	if strings.Count(rest, "/") >= cap(dst)-len(dst) {
		return strings.Split(rest, "/")
	}
	for {
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return append(dst, rest)
		}
		dst, rest = append(dst, rest[:i]), rest[i+1:]
	}
}

func validSegment(s string) bool {
	if s == "" || s == "." || s == ".." || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '.' || c == '_' || c == '$':
		default:
			return false
		}
	}
	return true
}

func isType(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

func classify3(method string, segs []string) (fhirRequest, bool) {
	switch len(segs) {
	case 0:
		return systemLevel(method)
	case 1:
		return oneSegment(method, segs[0])
	case 2:
		return twoSegments(method, segs[0], segs[1])
	case 3:
		return threeSegments(method, segs)
	case 4:
		if method == http.MethodGet && isType(segs[0]) && segs[2] == "_history" {
			return fhirRequest{Interaction: VRead, Type: segs[0], ID: segs[1], VersionID: segs[3]}, true
		}
	}
	return fhirRequest{}, false
}

func systemLevel(method string) (fhirRequest, bool) {
	switch method {
	case http.MethodGet:
		return fhirRequest{Interaction: Search}, true
	case http.MethodPost:
		return fhirRequest{Interaction: Batch}, true
	}
	return fhirRequest{}, false
}

func oneSegment(method, s string) (fhirRequest, bool) {
	switch {
	case s == "metadata" && method == http.MethodGet:
		return fhirRequest{Interaction: Capabilities}, true
	case s == "_history" && method == http.MethodGet:
		return fhirRequest{Interaction: History}, true
	case strings.HasPrefix(s, "$"):
		return fhirRequest{Interaction: Operation, Operation: s}, method == http.MethodGet || method == http.MethodPost
	case isType(s) && method == http.MethodGet:
		return fhirRequest{Interaction: Search, Type: s}, true
	case isType(s) && method == http.MethodPost:
		return fhirRequest{Interaction: Create, Type: s}, true
	case isType(s) && (method == http.MethodPut || method == http.MethodDelete || method == http.MethodPatch):
		// conditional update / delete / patch
		return fhirRequest{Interaction: map[string]string{http.MethodPut: Update, http.MethodDelete: Delete, http.MethodPatch: Patch}[method], Type: s}, true
	}
	return fhirRequest{}, false
}

func twoSegments(method, t, s string) (fhirRequest, bool) {
	if !isType(t) {
		return fhirRequest{}, false
	}
	switch {
	case s == "_search" && method == http.MethodPost:
		return fhirRequest{Interaction: Search, Type: t}, true
	case s == "_history" && method == http.MethodGet:
		return fhirRequest{Interaction: History, Type: t}, true
	case strings.HasPrefix(s, "$"):
		return fhirRequest{Interaction: Operation, Type: t, Operation: s}, method == http.MethodGet || method == http.MethodPost
	case strings.HasPrefix(s, "_"):
		return fhirRequest{}, false
	}
	switch method {
	case http.MethodGet:
		return fhirRequest{Interaction: Read, Type: t, ID: s}, true
	case http.MethodPut:
		return fhirRequest{Interaction: Update, Type: t, ID: s}, true
	case http.MethodPatch:
		return fhirRequest{Interaction: Patch, Type: t, ID: s}, true
	case http.MethodDelete:
		return fhirRequest{Interaction: Delete, Type: t, ID: s}, true
	}
	return fhirRequest{}, false
}

func threeSegments(method string, segs []string) (fhirRequest, bool) {
	t, id, s := segs[0], segs[1], segs[2]
	if !isType(t) || strings.HasPrefix(id, "_") || strings.HasPrefix(id, "$") {
		return fhirRequest{}, false
	}
	switch {
	case s == "_history" && method == http.MethodGet:
		return fhirRequest{Interaction: History, Type: t, ID: id}, true
	case strings.HasPrefix(s, "$"):
		return fhirRequest{Interaction: Operation, Type: t, ID: id, Operation: s}, method == http.MethodGet || method == http.MethodPost
	case isType(s) && method == http.MethodGet:
		// compartment search, e.g. Patient/1/Condition
		return fhirRequest{Interaction: Search, Type: s, ID: id}, true
	}
	return fhirRequest{}, false
}

// pageTokenOf reports the page token of a path below the FHIR base of the
// form _page/TOKEN (paging.go). The token is base64url; the route parser
// takes no other path under _page.
func pageTokenOf(rest string) (string, bool) {
	tok, ok := strings.CutPrefix(strings.TrimPrefix(rest, "/"), pageRoute+"/")
	if !ok || tok == "" || len(tok) > maxPageToken {
		return "", false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return tok, true
}

// builtinOperations are the operations the proxy forwards without
// enforcement.allow_operations (README "Searches the proxy refuses or
// rewrites"); guardOperation (searchguard.go) refuses every other one. An
// operation that answers with computed results (a Parameters value, a
// MeasureReport's counts, a $cql boolean) holds no resource the response
// pipeline could label and decide, so its answer would leave unchecked and
// could tell a yes or a count about withheld data ("does Patient/x have a
// Condition coded F11.20?"). These answer with resources the pipeline
// labels and decides, or carry no patient data. $export has its own setting
// (enforcement.allow_export, guardExport).
var builtinOperations = []string{
	// resources, each labelled and decided
	"$everything", // Patient, Encounter ...: a Bundle of the record
	"$lastn",      // Observation: a searchset
	"$document",   // Composition: a document Bundle
	"$summary",    // Patient: the patient summary (IPS) document
	"$match",      // Patient (MPI): a Bundle of Patients
	// labels and validation, guarded in writeguard.go: on an instance the
	// current version must be one the caller may read; $meta-add and
	// $meta-delete need the label-writer role
	"$meta", "$meta-add", "$meta-delete", "$validate",
	// terminology and server versions: no patient data
	"$expand", "$lookup", "$validate-code", "$translate", "$subsumes", "$closure", "$versions",
}

// operationName reports whether s looks like a FHIR operation name, with or
// without the leading $: a letter, then letters, digits, - and _.
func operationName(s string) bool {
	s = strings.TrimPrefix(s, "$")
	if s == "" || len(s) > 64 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
