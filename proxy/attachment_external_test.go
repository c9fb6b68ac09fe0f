package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestSensitiveAttachmentExternalURLRemoved: a sensitive resource disclosed
// to a caller loses its attachments' inline data (the proxy cannot read
// it), yet an attachment naming its content elsewhere (a storage service's
// presigned link, as Medplum writes for Binary content) kept its url, and
// the caller fetched the same content past every rule. Such a url goes
// now; one below the upstream base is pointed at the proxy, a relative
// one stays, and an ordinary resource keeps all of them.
func TestSensitiveAttachmentExternalURLRemoved(t *testing.T) {
	t.Parallel()
	const (
		presigned = "https://storage.example/binary/b1?Signature=SECRET-SIG"
		dataURL   = "data:text/plain;base64,U0VDUkVU"
	)
	doc := func(id, security string) func(up string) string {
		return func(up string) string {
			return `{"resourceType":"DocumentReference","id":"` + id + `",` + security + `"status":"current","subject":{"reference":"Patient/p1"},
			 "content":[{"attachment":{"contentType":"application/pdf","url":"` + presigned + `"}},
			  {"attachment":{"contentType":"application/pdf","url":"` + dataURL + `"}},
			  {"attachment":{"contentType":"application/pdf","url":"Binary/b2"}},
			  {"attachment":{"contentType":"application/pdf","url":"` + up + `/Binary/b3"}}]}`
		}
	}
	sud := doc("d1", `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},`)
	plain := doc("d2", "")
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		up := "http://" + r.Host + "/fhir/R4"
		if strings.HasSuffix(r.URL.Path, "/d2") {
			fhirJSONHandler(200, plain(up))(w, r)
			return
		}
		fhirJSONHandler(200, sud(up))(w, r)
	})
	resp, body := h.get("/fhir/DocumentReference/d1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"code":"SUD"`) {
		t.Fatalf("the consented caller: %d %s", resp.StatusCode, body)
	}
	for _, gone := range []string{"SECRET-SIG", "storage.example", "data:text/plain"} {
		if strings.Contains(body, gone) {
			t.Errorf("the sensitive resource kept %s: %s", gone, body)
		}
	}
	if !strings.Contains(body, `"url":"Binary/b2"`) || !strings.Contains(body, h.proxy.URL+"/fhir/Binary/b3") {
		t.Errorf("the relative url should stay and the upstream's point at the proxy: %s", body)
	}
	_, body = h.get("/fhir/DocumentReference/d2", tokConsented)
	if !strings.Contains(body, "SECRET-SIG") || !strings.Contains(body, dataURL) {
		t.Errorf("an ordinary resource lost its attachment urls: %s", body)
	}
}
