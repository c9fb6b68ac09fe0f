package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAttachmentURLsAnywhere: attachment urls were pointed at the proxy in
// DocumentReference and DiagnosticReport only; a Media's content, an
// Observation.valueAttachment, a Communication payload, a Consent's
// sourceAttachment or a QuestionnaireResponse answer showed the upstream's
// address, and following it skipped the proxy's Binary rules. Every
// attachment's url below the upstream base now is; one elsewhere, and an
// Extension's url (its kind), are left as they are.
func TestAttachmentURLsAnywhere(t *testing.T) {
	t.Parallel()
	bodies := map[string]func(base string) string{
		"Media/m1": func(b string) string {
			return `{"resourceType":"Media","id":"m1","status":"completed","subject":{"reference":"Patient/p1"},"content":{"contentType":"image/png","url":"` + b + `/Binary/img1","title":"x-ray"}}`
		},
		"Observation/o1": func(b string) string {
			return `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"scan"},"subject":{"reference":"Patient/p1"},"valueAttachment":{"url":"` + strings.ReplaceAll(b, "/", `\/`) + `/Binary/esc1"},
			"extension":[{"url":"` + b + `/StructureDefinition/kind","valueString":"kept"},{"url":"http://example.org/att","valueAttachment":{"contentType":"text/plain","url":"` + b + `/Binary/ext1"}},
			 {"url":"` + b + `/StructureDefinition/complex","extension":[{"url":"part","valueString":"p"}]}],
			"derivedFrom":[{"reference":"Media/m1"}],"note":[{"text":"see https://example.org/elsewhere/Binary/x"}],"component":[{"code":{"text":"c"},"valueAttachment":{"url":"https://example.org/elsewhere/Binary/x"}}]}`
		},
		// every character of the url escaped, and a narrative's \" beside it
		"Media/m2": func(b string) string {
			var esc strings.Builder
			for _, c := range b + "/Binary/img2" {
				fmt.Fprintf(&esc, `\u%04x`, c)
			}
			return `{"resourceType":"Media","id":"m2","status":"completed","subject":{"reference":"Patient/p1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"content":{"contentType":"image/png","url":"` + esc.String() + `"}}`
		},
		// the slashes escaped only, the upstream's base written nowhere else
		"Media/m3": func(b string) string {
			return `{"resourceType":"Media","id":"m3","status":"completed","subject":{"reference":"Patient/p1"},"content":{"contentType":"image/png","url":"` + strings.ReplaceAll(b, "/", `\/`) + `\/Binary\/img3"}}`
		},
		"Communication/c1": func(b string) string {
			return `{"resourceType":"Communication","id":"c1","status":"completed","subject":{"reference":"Patient/p1"},"payload":[{"contentAttachment":{"contentType":"application/pdf","url":"` + b + `/Binary/pay1"}}]}`
		},
		"QuestionnaireResponse/q1": func(b string) string {
			return `{"resourceType":"QuestionnaireResponse","id":"q1","status":"completed","subject":{"reference":"Patient/p1"},"item":[{"linkId":"1","answer":[{"valueAttachment":{"contentType":"image/jpeg","url":"` + b + `/Binary/ans1"}}]}]}`
		},
	}
	h := newHarness(t, pathBodies(bodies))
	proxied := h.proxy.URL + "/fhir/Binary/"
	cases := map[string][]string{
		"Media/m1":                 {proxied + "img1"},
		"Media/m2":                 {proxied + "img2"},
		"Media/m3":                 {proxied + "img3"},
		"Observation/o1":           {proxied + "esc1", proxied + "ext1", h.base() + "/StructureDefinition/kind", h.base() + "/StructureDefinition/complex", "https://example.org/elsewhere/Binary/x"},
		"Communication/c1":         {proxied + "pay1"},
		"QuestionnaireResponse/q1": {proxied + "ans1"},
	}
	for path, want := range cases {
		resp, body := h.get("/fhir/"+path, tokOther)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
			continue
		}
		var urls []string
		collectURLs(t, body, &urls)
		joined := strings.Join(urls, " ")
		for _, w := range want {
			if !strings.Contains(" "+joined+" ", " "+w+" ") {
				t.Errorf("%s: no url %s among %s", path, w, joined)
			}
		}
		for _, u := range urls {
			if strings.HasPrefix(u, h.base()+"/Binary/") {
				t.Errorf("%s: attachment url %s shows the upstream: %s", path, u, body)
			}
		}
	}
}

// collectURLs appends every "url" string of the JSON body.
func collectURLs(t *testing.T, body string, out *[]string) {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("invalid JSON: %v: %s", err, body)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, m := range x {
				if s, ok := m.(string); ok && k == "url" {
					*out = append(*out, s)
				}
				walk(m)
			}
		case []any:
			for _, m := range x {
				walk(m)
			}
		}
	}
	walk(v)
}

// TestCutAttachmentURLNotRewritten: an attachment cut or masked as an
// element is not rewritten too (the two edits overlapped: the whole
// response failed).
func TestCutAttachmentURLNotRewritten(t *testing.T) {
	t.Parallel()
	var h *harness
	obs := func(base string) string {
		return `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"scan"},"subject":{"reference":"Patient/p1"},
		"valueAttachment":{"contentType":"text/plain","url":"` + base + `/Binary/SECRET1","title":"SECRET-TITLE",` + inlineLabel("SUD") + `},
		"component":[{"code":{"text":"c"},"valueAttachment":{"url":"` + base + `/Binary/kept1"}}]}`
	}
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) { fhirJSONHandler(200, obs(h0base(r)))(w, r) })
	resp, body := h.get("/fhir/Observation/o1", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "SECRET") || !strings.Contains(body, `"code":"REDACTED"`) {
		t.Fatalf("cut: %d %s", resp.StatusCode, body)
	}
	hm := newHarness(t, func(w http.ResponseWriter, r *http.Request) { fhirJSONHandler(200, obs(h0base(r)))(w, r) },
		func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	resp, body = hm.get("/fhir/Observation/o1", tokConsented)
	if resp.StatusCode != 200 || strings.Contains(body, "SECRET") || !strings.Contains(body, `"url":"masked"`) {
		t.Fatalf("masked: %d %s", resp.StatusCode, body)
	}
	// of a cut or masked resource no attachment keeps its url
	if strings.Contains(body, "kept1") || strings.Contains(body, hm.base()) {
		t.Errorf("an attachment of a masked resource kept its url: %s", body)
	}
}

// TestCutLeavesNoSummary: after a cut, an attachment kept its title, size
// and hash (a hash or size of withheld content can tell which it was; a
// title names it as a narrative does) and its url (what it points at
// renders the record uncut), a DiagnosticReport its conclusion and
// conclusionCode (a summary of the results cut), a Composition its
// sections' narratives. All go; an attachment keeps its contentType. A
// sensitive resource the caller may read loses its attachments' data,
// size and hash, and keeps their titles and urls.
func TestCutLeavesNoSummary(t *testing.T) {
	t.Parallel()
	hiv := inlineLabel("HIV")
	secretAttachment := func(base string) string {
		return `{"contentType":"application/pdf","language":"en","data":"U0VDUkVU","url":"` + base + `/Binary/SECRET-BIN","size":31337,"hash":"SECRETHASH","title":"SECRET-TITLE","_title":{"id":"SECRET-TWIN"},"creation":"2024-01-01"}`
	}
	bodies := map[string]func(string) string{
		"DiagnosticReport/d1": func(b string) string {
			return `{"resourceType":"DiagnosticReport","id":"d1",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},
			"result":[{"reference":"Observation/a"},{"reference":"Observation/x",` + hiv + `}],
			"conclusion":"SECRET-CONCLUSION","_conclusion":{"id":"SECRET-C"},"conclusionCode":[{"text":"SECRET-CODE"}],
			"presentedForm":[` + secretAttachment(b) + `,{"url":"https://example.org/SECRET-EXTERNAL","title":"SECRET-T2"}],
			"extension":[{"url":"http://example.org/kind","extension":[{"url":"part","valueString":"kept-ext"}]}],
			"contained":[{"resourceType":"DiagnosticReport","id":"inner","status":"final","code":{"text":"inner"},"conclusion":"SECRET-INNER","text":{"status":"generated","div":"<div>SECRET-NARRATIVE</div>"}}],
			"basedOn":[{"reference":"#inner"}]}`
		},
		"Composition/k1": func(string) string {
			return `{"resourceType":"Composition","id":"k1",` + processInlineMeta + `,"status":"final","type":{"text":"summary"},"subject":{"reference":"Patient/p1"},"date":"2024-01-01","author":[{"display":"a"}],"title":"kept-title",
			"section":[{"title":"Problems","text":{"status":"generated","div":"<div>SECRET-SECTION</div>"},"entry":[{"reference":"Condition/ok"},{"reference":"Condition/x",` + hiv + `}]},{"title":"Other","entry":[{"reference":"Condition/ok2"}]}]}`
		},
		"DocumentReference/r1": func(b string) string {
			return `{"resourceType":"DocumentReference","id":"r1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":` + secretAttachment(b) + `}]}`
		},
	}
	h := newHarness(t, pathBodies(bodies))
	for _, c := range []struct {
		path, token string
		keep, gone  []string
	}{
		{"DiagnosticReport/d1", tokOther,
			[]string{`"contentType":"application/pdf"`, `"language":"en"`, `"creation":"2024-01-01"`, `"code":{"text":"panel"}`, "kept-ext", `"reference":"Observation/a"`, `"id":"inner"`},
			[]string{"SECRET", "31337", "Observation/x", "conclusion", `"hash"`, `"title"`, `"url":"` + h.base()}},
		{"Composition/k1", tokOther,
			[]string{`"title":"Problems"`, `"title":"kept-title"`, "Condition/ok", "Condition/ok2"},
			[]string{"SECRET", "Condition/x"}},
		{"DocumentReference/r1", tokConsented,
			[]string{`"title":"SECRET-TITLE"`, h.proxy.URL + "/fhir/Binary/SECRET-BIN", `"contentType":"application/pdf"`},
			[]string{"U0VDUkVU", "31337", "SECRETHASH"}},
	} {
		resp, body := h.get("/fhir/"+c.path, c.token)
		if resp.StatusCode != 200 || !strings.Contains(body, `"code":"REDACTED"`) {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, body)
			continue
		}
		checkKeepGone(t, c.path, body, c.keep, c.gone)
	}
}
