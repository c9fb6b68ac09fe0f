package fhirmem

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/synth"
)

// fixture is a server loaded with a small synthetic population and
// reachable over real HTTP.
type fixture struct {
	srv  *Server
	http *httptest.Server
	data *synth.Dataset
	base string // absolute base URL, e.g. http://127.0.0.1:1234/fhir
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	data := synth.Generate(synth.Options{Seed: 1, Patients: 5})
	srv := New("/fhir", opts...)
	if err := srv.Load(data.Raw()...); err != nil {
		t.Fatalf("Load: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &fixture{srv: srv, http: hs, data: data, base: hs.URL + "/fhir"}
}

// reply is an HTTP response with its body read.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (f *fixture) do(t *testing.T, method, path string, body io.Reader, header map[string]string) reply {
	t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = f.base + path
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return f.send(t, req)
}

// send performs req and reads the whole response.
func (f *fixture) send(t *testing.T, req *http.Request) reply {
	t.Helper()
	resp, err := f.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, b}
}

func (f *fixture) get(t *testing.T, path string) reply {
	t.Helper()
	return f.do(t, http.MethodGet, path, nil, nil)
}

func (f *fixture) postForm(t *testing.T, path string, form url.Values) reply {
	t.Helper()
	return f.do(t, http.MethodPost, path, strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// searchBundle is the part of a Bundle the tests inspect.
type searchBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        *int   `json:"total"`
	Link         []struct {
		Relation string `json:"relation"`
		URL      string `json:"url"`
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   *struct {
			Mode string `json:"mode"`
		} `json:"search"`
		Request *struct {
			Method string `json:"method"`
			URL    string `json:"url"`
		} `json:"request"`
		Response *struct {
			Status string `json:"status"`
			ETag   string `json:"etag"`
		} `json:"response"`
	} `json:"entry"`
}

func parseBundle(t *testing.T, r reply) searchBundle {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var b searchBundle
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("invalid bundle: %v: %s", err, r.body)
	}
	if b.ResourceType != "Bundle" {
		t.Fatalf("resourceType %q", b.ResourceType)
	}
	return b
}

func (b searchBundle) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

// refs returns "Type/id" of each entry whose search mode is mode.
func (b searchBundle) refs(t *testing.T, mode string) []string {
	t.Helper()
	var out []string
	for _, e := range b.Entry {
		if e.Search == nil || e.Search.Mode != mode {
			continue
		}
		var ix struct{ ResourceType, ID string }
		if err := json.Unmarshal(e.Resource, &ix); err != nil {
			t.Fatal(err)
		}
		out = append(out, ix.ResourceType+"/"+ix.ID)
	}
	return out
}

// outcomeCode returns the first issue code of an OperationOutcome body.
func outcomeCode(t *testing.T, body []byte) string {
	t.Helper()
	var oo struct {
		ResourceType string
		Issue        []struct{ Code string }
	}
	if err := json.Unmarshal(body, &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
		t.Fatalf("not an OperationOutcome: %s", body)
	}
	return oo.Issue[0].Code
}
