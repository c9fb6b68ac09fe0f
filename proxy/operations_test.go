package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestOperationsRefusedUnlessAllowed: an operation answering with computed
// results (a $cql boolean, a $stats count, a MeasureReport) holds no
// resource the pipeline could label, so it is refused unless built in or
// named in enforcement.allow_operations; $export keeps its own setting.
func TestOperationsRefusedUnlessAllowed(t *testing.T) {
	t.Parallel()
	const cql = `{"resourceType":"Parameters","parameter":[{"name":"subject","valueString":"Patient/p-sud"},{"name":"expression","valueString":"exists [Condition: F11.20]"}]}`
	cases := []struct {
		name, method, path string
		rules              RequestRules
		status             int // 0: forwarded
	}{
		{"cql refused", http.MethodPost, "/fhir/$cql", RequestRules{}, 403},
		{"stats refused", http.MethodGet, "/fhir/Condition/$stats?subject=Patient/p-sud&code=F11.20", RequestRules{}, 403},
		{"evaluate-measure refused", http.MethodGet, "/fhir/Measure/m1/$evaluate-measure?subject=Patient/p-sud", RequestRules{}, 403},
		{"type-level evaluate-measure refused", http.MethodPost, "/fhir/Measure/$evaluate-measure", RequestRules{}, 403},
		{"process-message refused", http.MethodPost, "/fhir/$process-message", RequestRules{}, 403},
		{"graphql refused", http.MethodGet, "/fhir/$graphql?query=x", RequestRules{}, 403},
		{"evaluate refused", http.MethodPost, "/fhir/Library/l1/$evaluate", RequestRules{}, 403},
		{"apply refused", http.MethodPost, "/fhir/PlanDefinition/pd1/$apply", RequestRules{}, 403},
		{"care-gaps refused", http.MethodGet, "/fhir/Measure/$care-gaps?subject=Patient/p-sud", RequestRules{}, 403},
		{"collect-data refused", http.MethodGet, "/fhir/Measure/m1/$collect-data?subject=Patient/p-sud", RequestRules{}, 403},
		{"data-requirements refused", http.MethodGet, "/fhir/Measure/m1/$data-requirements", RequestRules{}, 403},
		{"an unknown operation refused", http.MethodGet, "/fhir/Patient/$anything-new", RequestRules{}, 403},
		{"a built-in name in other case refused", http.MethodGet, "/fhir/ValueSet/$EXPAND?url=x", RequestRules{}, 403},
		{"allowed by name without $", http.MethodPost, "/fhir/$cql", RequestRules{AllowOperations: []string{"cql"}}, 0},
		{"allowed by name with $", http.MethodGet, "/fhir/Condition/$stats?code=I10", RequestRules{AllowOperations: []string{"$stats"}}, 0},
		{"allowing one leaves the others refused", http.MethodGet, "/fhir/Condition/$stats?code=I10", RequestRules{AllowOperations: []string{"cql"}}, 403},
		{"an allowed name matches exactly", http.MethodPost, "/fhir/$CQL", RequestRules{AllowOperations: []string{"cql"}}, 403},
		{"type-level everything forwarded", http.MethodGet, "/fhir/Patient/$everything", RequestRules{}, 0},
		{"lastn forwarded", http.MethodGet, "/fhir/Observation/$lastn?patient=p1", RequestRules{}, 0},
		{"match forwarded", http.MethodPost, "/fhir/Patient/$match", RequestRules{}, 0},
		{"type-level validate forwarded", http.MethodPost, "/fhir/Condition/$validate", RequestRules{}, 0},
		{"expand forwarded", http.MethodGet, "/fhir/ValueSet/$expand?url=http://example.org/vs", RequestRules{}, 0},
		{"lookup forwarded", http.MethodGet, "/fhir/CodeSystem/$lookup?system=http://loinc.org&code=1-8", RequestRules{}, 0},
		{"validate-code forwarded", http.MethodGet, "/fhir/ValueSet/$validate-code?url=x&code=y", RequestRules{}, 0},
		{"translate forwarded", http.MethodGet, "/fhir/ConceptMap/$translate?code=y", RequestRules{}, 0},
		{"subsumes forwarded", http.MethodGet, "/fhir/CodeSystem/$subsumes?codeA=a&codeB=b", RequestRules{}, 0},
		{"closure forwarded", http.MethodPost, "/fhir/$closure", RequestRules{}, 0},
		{"export not allowed by allow_operations", http.MethodGet, "/fhir/Patient/$export", RequestRules{AllowOperations: []string{"cql"}}, 403},
		{"export allowed by allow_export alone", http.MethodGet, "/fhir/Patient/$export", RequestRules{AllowExport: true}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`), func(o *Options, _ *Deps) { o.Requests = c.rules })
			sent := cql
			if c.method == http.MethodGet {
				sent = "" // a GET carries no body (TestBodylessMethodsRefuseABody)
			}
			resp, body := h.send(c.method, c.path, tokAll, "application/fhir+json", sent)
			if c.status == 0 {
				if resp.StatusCode != 200 {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
				if r := <-h.seen; !strings.HasSuffix(c.path[:strings.IndexByte(c.path+"?", '?')], strings.TrimPrefix(r.URL.Path, "/fhir/R4")) {
					t.Fatalf("upstream got %s", r.URL.Path)
				}
				return
			}
			code, setting := "not-supported", "enforcement.allow_operations"
			if strings.Contains(c.path, "$export") {
				code, setting = "forbidden", "enforcement.allow_export"
			}
			if resp.StatusCode != c.status || !strings.Contains(body, `"code":"`+code+`"`) || !strings.Contains(body, setting) {
				t.Fatalf("%d %s, want %d %s naming %s", resp.StatusCode, body, c.status, code, setting)
			}
			select {
			case r := <-h.seen:
				t.Fatalf("a refused operation reached the upstream: %s", r.URL.Path)
			default:
			}
		})
	}
}

// TestOperationRefusedInBatch: a batch entry naming a refused operation
// refuses the batch before anything reaches the upstream.
func TestOperationRefusedInBatch(t *testing.T) {
	t.Parallel()
	const batch = `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Condition/$stats?subject=Patient/p-sud&code=F11.20"}}]}`
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"}}]}`))
	resp, body := h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batch)
	if resp.StatusCode != 403 || !strings.Contains(body, "enforcement.allow_operations") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	select {
	case r := <-h.seen:
		t.Fatalf("a refused batch reached the upstream: %s", r.URL.Path)
	default:
	}
	h = newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200 OK"}}]}`),
		func(o *Options, _ *Deps) { o.Requests.AllowOperations = []string{"stats"} })
	if resp, body := h.send(http.MethodPost, "/fhir", tokAll, "application/fhir+json", batch); resp.StatusCode != 200 {
		t.Fatalf("a batch with an allowed operation: %d %s", resp.StatusCode, body)
	}
}

func TestAllowOperationsValidated(t *testing.T) {
	t.Parallel()
	if errs := (RequestRules{AllowOperations: []string{"cql", "$stats", "evaluate-measure", "$care_gaps"}}).validate(); len(errs) != 0 {
		t.Fatalf("good names refused: %v", errs)
	}
	for _, bad := range []string{"", "$", "1cql", "c ql", "$cql/x", "cql?x", "$$cql", "../cql", "$export", "export", "export-poll-status"} {
		errs := (RequestRules{AllowOperations: []string{bad}}).validate()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "enforcement.allow_operations") {
			t.Errorf("%q: %v", bad, errs)
		}
	}
	if errs := (RequestRules{AllowOperations: []string{"export"}}).validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "allow_export") {
		t.Errorf("export: %v, want a pointer to enforcement.allow_export", errs)
	}
}
