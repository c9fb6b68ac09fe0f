package proxy

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 36, area A found it (A-5, TestStoredBundleOwnLabelQA36A,
// written by area A), area E fixed it: a stored document or collection
// Bundle whose EHR labelled the Bundle itself (meta.security SUD, or
// confidentiality R) and not each entry, whose entries carry no code a
// rule matches, went to org-b whole (200, "Opioid use disorder"), and the
// high-water mark stripped the Bundle's own label as one its disclosed
// entries did not support.

const (
	qa36eSUD = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`
	qa36eR   = `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`
	// qa36eCond names an opioid use disorder in text alone: no rule
	// labels it.
	qa36eCond = `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	qa36eComp = `{"resourceType":"Composition","id":"k1","status":"final","type":{"text":"Summary"},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"Dr A"}],"title":"Summary","section":[{"title":"Problems","entry":[{"reference":"urn:uuid:c1"}]}]}`
)

// qa36eBundle is a stored Bundle of typ with id, the meta member meta
// ("" for none) before its entries or, metaLast, after them, and the
// entries' resources.
func qa36eBundle(id, typ, meta string, metaLast bool, resources ...string) string {
	var es []string
	for _, res := range resources {
		var r struct{ ID string }
		_ = json.Unmarshal([]byte(res), &r)
		es = append(es, `{"fullUrl":"urn:uuid:`+r.ID+`","resource":`+res+`}`)
	}
	head := `{"resourceType":"Bundle","id":"` + id + `","type":"` + typ + `",`
	entries := `"timestamp":"2026-01-01T00:00:00Z","entry":[` + strings.Join(es, ",") + `]`
	switch {
	case meta == "":
		return head + entries + `}`
	case metaLast:
		return head + entries + `,"meta":` + meta + `}`
	}
	return head + `"meta":` + meta + `,` + entries + `}`
}

// qa36eDoc is a stored document (Composition and the Condition) or
// collection (the Condition) labelled by meta.
func qa36eDoc(id, typ, meta string, metaLast bool) string {
	if typ == "document" {
		return qa36eBundle(id, typ, meta, metaLast, qa36eComp, qa36eCond)
	}
	return qa36eBundle(id, typ, meta, metaLast, qa36eCond)
}

// qa36eSecurity returns the codes of the meta.security of the Bundle
// body, and of the Bundles nested in its entries, by Bundle id.
func qa36eSecurity(t *testing.T, body string) map[string][]string {
	t.Helper()
	type bundle struct {
		ID   string `json:"id"`
		Meta struct {
			Security []struct{ Code string } `json:"security"`
		} `json:"meta"`
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	out := map[string][]string{}
	var walk func(raw []byte)
	walk = func(raw []byte) {
		var b bundle
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		for _, s := range b.Meta.Security {
			out[b.ID] = append(out[b.ID], s.Code)
		}
		for _, e := range b.Entry {
			if strings.Contains(string(e.Resource), `"resourceType":"Bundle"`) {
				walk(e.Resource)
			}
		}
	}
	walk([]byte(body))
	return out
}

// TestStoredBundleOwnLabelQA36A is area A's test as it wrote it.
func TestStoredBundleOwnLabelQA36A(t *testing.T) {
	t.Parallel()
	for _, sec := range []string{
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`,
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`,
	} {
		for _, typ := range []string{"document", "collection"} {
			doc := `{"resourceType":"Bundle","id":"b1","type":"` + typ + `","meta":{"security":[` + sec + `]},"timestamp":"2026-01-01T00:00:00Z","entry":[` +
				`{"fullUrl":"urn:uuid:c1","resource":{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}}]}`
			h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": doc}))
			resp, body := h.get("/fhir/Bundle/b1", tokOther)
			if strings.Contains(body, "Opioid") {
				t.Errorf("%s labelled %s: org-b got %d %s", typ, sec, resp.StatusCode, body)
			}
		}
	}
}

// TestStoredBundleOwnLabelReadQA36E: a stored Bundle read whose own
// labels (in any spelling the labeller reads on a resource: a legacy OID
// system, an unknown confidentiality code, ActReason's 42CFRPart2, a
// label in meta.tag), before or after its entries, are labels of each
// entry: org-b gets no entry (a document as missing, as one whose
// Composition is withheld; a collection without its entries), the
// consented org-a gets it whole with the Bundle's label kept.
func TestStoredBundleOwnLabelReadQA36E(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, meta, want string }{
		{"SUD", `{"security":[` + qa36eSUD + `]}`, "SUD"},
		{"R", `{"security":[` + qa36eR + `]}`, "R"},
		{"R by its OID", `{"security":[{"system":"urn:oid:2.16.840.1.113883.5.25","code":"R"}]}`, "R"},
		// Read as R, and kept as the EHR wrote it, as any entry the mark
		// holds is (labels.MarkEdits).
		{"an unknown confidentiality", `{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"X"}]}`, "X"},
		{"42CFRPart2 of ActReason", `{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"42CFRPart2"}]}`, "42CFRPart2"},
		{"SUD in meta.tag", `{"tag":[` + qa36eSUD + `]}`, "SUD"},
	} {
		for _, typ := range []string{"document", "collection"} {
			for _, metaLast := range []bool{false, true} {
				name := tc.name + "/" + typ
				if metaLast {
					name += "/meta last"
				}
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": qa36eDoc("b1", typ, tc.meta, metaLast)}))
					resp, body := h.get("/fhir/Bundle/b1", tokOther)
					if strings.Contains(body, "Opioid") || strings.Contains(body, "Problems") {
						t.Fatalf("org-b got %d %s", resp.StatusCode, body)
					}
					want := http.StatusOK
					if typ == "document" {
						want = http.StatusNotFound
					}
					if resp.StatusCode != want {
						t.Fatalf("org-b: want %d, got %d %s", want, resp.StatusCode, body)
					}
					resp, body = h.get("/fhir/Bundle/b1", tokConsented)
					if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") {
						t.Fatalf("org-a: %d %s", resp.StatusCode, body)
					}
					if got := qa36eSecurity(t, body)["b1"]; !strings.Contains(","+strings.Join(got, ",")+",", ","+tc.want+",") {
						t.Fatalf("org-a: the Bundle's label %s is not kept: %v in %s", tc.want, got, body)
					}
				})
			}
		}
	}
}

// TestStoredBundleOwnLabelSearchQA36E: a labelled stored Bundle in a
// search of Bundles, and one nested in a stored Bundle (the inner one
// labelled, or the outer one), labels its entries as when read; a
// searchset's own labels (the server's answer) stay as they were: they
// label no entry.
func TestStoredBundleOwnLabelSearchQA36E(t *testing.T) {
	t.Parallel()
	sud := `{"security":[` + qa36eSUD + `]}`
	for _, tc := range []struct{ name, path, upstream, body string }{
		{"a document in a search", "/fhir/Bundle?type=document", "/fhir/R4/Bundle",
			`{"resourceType":"Bundle","type":"searchset","entry":[` +
				`{"fullUrl":"http://x/Bundle/b1","resource":` + qa36eDoc("b1", "document", sud, true) + `,"search":{"mode":"match"}},` +
				`{"fullUrl":"http://x/Bundle/b2","resource":` + qa36eBundle("b2", "document", "", false, strings.Replace(qa36eComp, "Problems", "Weights", 1), bpObs) + `,"search":{"mode":"match"}}]}`},
		{"a collection in a search", "/fhir/Bundle?type=collection", "/fhir/R4/Bundle",
			`{"resourceType":"Bundle","type":"searchset","entry":[` +
				`{"fullUrl":"http://x/Bundle/b1","resource":` + qa36eDoc("b1", "collection", sud, false) + `,"search":{"mode":"match"}},` +
				`{"fullUrl":"http://x/Bundle/b2","resource":` + qa36eBundle("b2", "collection", "", false, bpObs) + `,"search":{"mode":"match"}}]}`},
		{"a labelled document in a collection", "/fhir/Bundle/b2", "/fhir/R4/Bundle/b2",
			qa36eBundle("b2", "collection", "", false, bpObs, qa36eDoc("b1", "document", sud, false))},
		{"a document in a labelled collection", "/fhir/Bundle?_id=b2", "/fhir/R4/Bundle",
			`{"resourceType":"Bundle","type":"searchset","entry":[` +
				`{"fullUrl":"http://x/Bundle/b2","resource":` + qa36eBundle("b2", "collection", sud, true, qa36eDoc("b1", "document", "", false)) + `,"search":{"mode":"match"}},` +
				`{"fullUrl":"http://x/Bundle/b3","resource":` + qa36eBundle("b3", "collection", "", false, bpObs) + `,"search":{"mode":"match"}}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, routes(map[string]string{tc.upstream: tc.body}))
			resp, body := h.get(tc.path, tokOther)
			if strings.Contains(body, "Opioid") || strings.Contains(body, "Problems") {
				t.Fatalf("org-b got %d %s", resp.StatusCode, body)
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "weight") {
				t.Fatalf("org-b: want the ordinary rest, got %d %s", resp.StatusCode, body)
			}
			resp, body = h.get(tc.path, tokConsented)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") || !strings.Contains(body, "weight") {
				t.Fatalf("org-a: %d %s", resp.StatusCode, body)
			}
			sec := qa36eSecurity(t, body)
			labelled := "b1"
			if strings.Contains(tc.name, "labelled collection") {
				labelled = "b2"
			}
			if !strings.Contains(strings.Join(sec[labelled], ","), "SUD") {
				t.Fatalf("org-a: Bundle/%s's SUD is not kept: %v in %s", labelled, sec, body)
			}
		})
	}
}

// TestStoredBundleOwnLabelAnswersAsWithheldEntriesQA36E: what org-b gets
// of a Bundle labelled as a whole tells nothing a Bundle whose entries are
// withheld each, as they were before, does not: the same status and the
// same bytes, read and in a search.
func TestStoredBundleOwnLabelAnswersAsWithheldEntriesQA36E(t *testing.T) {
	t.Parallel()
	sud := `{"security":[` + qa36eSUD + `]}`
	coded := strings.Replace(qa36eCond, `"code":{"text"`, `"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}],"text"`, 1)
	codedComp := strings.Replace(qa36eComp, `"type":{"text":"Summary"}`, `"type":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}],"text":"Summary"}`, 1)
	for _, typ := range []string{"document", "collection"} {
		whole := qa36eDoc("b1", typ, sud, false)
		each := qa36eBundle("b1", typ, sud, false, coded)
		if typ == "document" {
			each = qa36eBundle("b1", typ, sud, false, codedComp, coded)
		}
		search := func(doc string) string {
			return `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/Bundle/b1","resource":` + doc + `,"search":{"mode":"match"}}]}`
		}
		answers := map[string][2]string{}
		for world, doc := range map[string]string{"whole": whole, "each": each} {
			h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": doc, "/fhir/R4/Bundle": search(doc)}))
			for _, path := range []string{"/fhir/Bundle/b1", "/fhir/Bundle?type=" + typ} {
				resp, body := h.get(path, tokOther)
				if strings.Contains(body, "Opioid") {
					t.Fatalf("%s %s, %s: org-b got %d %s", typ, world, path, resp.StatusCode, body)
				}
				got := [2]string{http.StatusText(resp.StatusCode), body}
				if prev, ok := answers[path]; ok && prev != got {
					t.Errorf("%s %s: org-b is answered otherwise when the Bundle is labelled as a whole (%v) than when each entry is (%v)", typ, path, got, prev)
				}
				answers[path] = got
			}
		}
	}
}

// TestResponseBundleLabelsLabelNoEntryQA36E: a searchset's or a batch
// response's own meta.security (the server's answer, labelled by the
// server or by a proxy before ds4p) is no stored Bundle's: its entries
// are decided as they were.
func TestResponseBundleLabelsLabelNoEntryQA36E(t *testing.T) {
	t.Parallel()
	r := `"meta":{"security":[` + qa36eR + `]},`
	searchset := `{"resourceType":"Bundle","type":"searchset",` + r + `"entry":[{"fullUrl":"http://x/Observation/bp1","resource":` + bpObs + `,"search":{"mode":"match"}}]}`
	bundles := `{"resourceType":"Bundle","type":"searchset",` + r + `"entry":[{"fullUrl":"http://x/Bundle/b2","resource":` + qa36eBundle("b2", "collection", "", false, bpObs) + `,"search":{"mode":"match"}}]}`
	batch := `{"resourceType":"Bundle","type":"batch-response",` + r + `"entry":[{"resource":` + searchset + `,"response":{"status":"200 OK"}}]}`
	h := newHarness(t, routes(map[string]string{"/fhir/R4/Observation": searchset, "/fhir/R4/Bundle": bundles, "/fhir/R4": batch}))
	for _, path := range []string{"/fhir/Observation?code=x", "/fhir/Bundle?type=collection"} {
		if resp, body := h.get(path, tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, "weight") {
			t.Errorf("%s: org-b: %d %s", path, resp.StatusCode, body)
		}
	}
	resp, body := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation?code=x"}}]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "weight") {
		t.Errorf("batch: org-b: %d %s", resp.StatusCode, body)
	}
}

// TestAttachedStoredBundleLabelQA36E: a labelled stored Bundle attached to
// a DocumentReference (its FHIR JSON in the attachment) labels the
// DocumentReference, as an attached resource's meta.security does
// (labels: attachedLabel); held before this round, checked beside the
// Bundles read and searched.
func TestAttachedStoredBundleLabelQA36E(t *testing.T) {
	t.Parallel()
	for _, meta := range []string{`{"security":[` + qa36eSUD + `]}`, `{"security":[` + qa36eR + `]}`} {
		data := base64.StdEncoding.EncodeToString([]byte(qa36eDoc("b1", "collection", meta, true)))
		dr := `{"resourceType":"DocumentReference","id":"dr1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/fhir+json","data":"` + data + `"}}]}`
		h := newHarness(t, routes(map[string]string{"/fhir/R4/DocumentReference/dr1": dr}))
		if resp, body := h.get("/fhir/DocumentReference/dr1", tokOther); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: org-b got %d %s", meta, resp.StatusCode, body)
		}
		if resp, body := h.get("/fhir/DocumentReference/dr1", tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: org-a got %d %s", meta, resp.StatusCode, body)
		}
	}
}

// TestStoredBundleLabelsSamePathsQA36E: the checked walk and the
// validating path (labelBatch: labels.Copy.Labels) give a nested stored
// Bundle's entries, and the resources contained in them, the Bundle's
// labels alike, read after the entries; its sibling entries of the outer
// Bundle (not stored here: no Bundle was read) take none.
func TestStoredBundleLabelsSamePathsQA36E(t *testing.T) {
	t.Parallel()
	s := checkedServer(t)
	cond := strings.Replace(qa36eCond, `"subject"`, `"contained":[{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"note"}}],"subject"`, 1)
	inner := qa36eBundle("b1", "collection", `{"security":[`+qa36eSUD+`]}`, true, cond)
	body := []byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + bpObs + `},{"resource":` + inner + `}]}`)
	if !samePaths(t, s, body) {
		t.Fatal("refused")
	}
	for _, o := range []pathOutcome{runChecked(s, body), runValidating(s, body)} {
		if o.err != nil {
			t.Fatal(o.err)
		}
		for _, it := range o.r.items {
			if got, want := it.res.Labels.Has(labels.SUD), it.res.Type == "Condition"; got != want {
				t.Errorf("%s: SUD %v, want %v (%v)", it.res.Type, got, want, it.res.Labels)
			}
			for _, c := range it.contained {
				if !c.res.Labels.Has(labels.SUD) {
					t.Errorf("contained %s: %v, want SUD", c.res.Type, c.res.Labels)
				}
			}
		}
	}
}

// TestStoredBundleOwnLabelInBatchQA36E: a labelled stored Bundle read in a
// batch (the batch-response's entry) labels its entries as when read
// alone: org-b gets it without them, org-a with them.
func TestStoredBundleOwnLabelInBatchQA36E(t *testing.T) {
	t.Parallel()
	doc := qa36eDoc("b1", "collection", `{"security":[`+qa36eR+`]}`, true)
	batch := `{"resourceType":"Bundle","type":"batch-response","entry":[{"resource":` + doc + `,"response":{"status":"200 OK"}}]}`
	h := newHarness(t, routes(map[string]string{"/fhir/R4": batch, "/fhir/R4/Bundle/b1": doc}))
	req := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Bundle/b1"}}]}`
	resp, body := h.do(http.MethodPost, "/fhir", tokOther, "application/fhir+json", req)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "Opioid") {
		t.Fatalf("org-b: %d %s", resp.StatusCode, body)
	}
	resp, body = h.do(http.MethodPost, "/fhir", tokConsented, "application/fhir+json", req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Opioid") {
		t.Fatalf("org-a: %d %s", resp.StatusCode, body)
	}
}
