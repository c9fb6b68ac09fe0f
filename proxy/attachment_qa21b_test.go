package proxy

import (
	"encoding/json"
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
	var h *harness
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
		"Communication/c1": func(b string) string {
			return `{"resourceType":"Communication","id":"c1","status":"completed","subject":{"reference":"Patient/p1"},"payload":[{"contentAttachment":{"contentType":"application/pdf","url":"` + b + `/Binary/pay1"}}]}`
		},
		"QuestionnaireResponse/q1": func(b string) string {
			return `{"resourceType":"QuestionnaireResponse","id":"q1","status":"completed","subject":{"reference":"Patient/p1"},"item":[{"linkId":"1","answer":[{"valueAttachment":{"contentType":"image/jpeg","url":"` + b + `/Binary/ans1"}}]}]}`
		},
	}
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		for path, body := range bodies {
			if strings.HasSuffix(r.URL.Path, "/"+path) {
				fhirJSONHandler(200, body(h0base(r)))(w, r)
				return
			}
		}
		http.NotFound(w, r)
	})
	proxied := h.proxy.URL + "/fhir/Binary/"
	cases := map[string][]string{
		"Media/m1":                 {proxied + "img1"},
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
	for _, b := range []string{body} {
		if !strings.Contains(b, hm.proxy.URL+"/fhir/Binary/kept1") {
			t.Errorf("the kept attachment's url is not the proxy's: %s", b)
		}
	}
}
