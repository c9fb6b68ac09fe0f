package synth

import (
	"bytes"
	"encoding/json"
	"testing"
)

// bundle is the part of a Bundle the tests inspect.
type bundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Total        int    `json:"total"`
	Link         []struct {
		Relation, URL string
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   struct {
			Mode string `json:"mode"`
		} `json:"search"`
	} `json:"entry"`
}

func parseBundle(t *testing.T, b []byte) bundle {
	t.Helper()
	var out bundle
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("invalid bundle: %v", err)
	}
	if out.ResourceType != "Bundle" || out.Type != "searchset" {
		t.Fatalf("got %s %s, want searchset Bundle", out.ResourceType, out.Type)
	}
	return out
}

func TestSearchsetBundle(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 1, Patients: 2})
	var observations []Resource
	for _, r := range d.Resources {
		if r.Type == "Observation" {
			observations = append(observations, r)
		}
	}
	tests := []struct {
		name      string
		resources []Resource
		base      string
		self      string
	}{
		{"mixed types", d.ByPatient("Patient/pat-0"), "http://localhost:8080/fhir", "http://localhost:8080/fhir"},
		{"one type, trailing slash", observations, "https://ehr.example.org/r4/", "https://ehr.example.org/r4/Observation"},
		{"empty", nil, "http://x/fhir", "http://x/fhir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := parseBundle(t, SearchsetBundle(tt.resources, tt.base))
			if b.Total != len(tt.resources) || len(b.Entry) != len(tt.resources) {
				t.Fatalf("total %d, %d entries, want %d", b.Total, len(b.Entry), len(tt.resources))
			}
			if len(b.Link) != 1 || b.Link[0].Relation != "self" || b.Link[0].URL != tt.self {
				t.Errorf("links %+v, want self %s", b.Link, tt.self)
			}
			for i, e := range b.Entry {
				r := tt.resources[i]
				if e.FullURL != joinBase(tt.base)+"/"+r.Ref() {
					t.Errorf("entry %d fullUrl %s", i, e.FullURL)
				}
				if !bytes.Equal(e.Resource, r.JSON) {
					t.Errorf("entry %d: resource bytes changed", i)
				}
				if e.Search.Mode != "match" {
					t.Errorf("entry %d: search mode %q", i, e.Search.Mode)
				}
			}
		})
	}
}

func joinBase(base string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base
}

func TestBenchBundle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		entries       int
		minAvg, maxAv int
	}{
		{0, 0, 0},
		{1, 1000, 4000},
		{100, 1800, 3200},
		{1000, 1800, 3200},
	}
	for _, tt := range tests {
		raw := BenchBundle(tt.entries, 1)
		b := parseBundle(t, raw)
		if len(b.Entry) != tt.entries || b.Total != tt.entries {
			t.Fatalf("BenchBundle(%d): %d entries, total %d", tt.entries, len(b.Entry), b.Total)
		}
		if tt.entries == 0 {
			continue
		}
		if avg := len(raw) / tt.entries; avg < tt.minAvg || avg > tt.maxAv {
			t.Errorf("BenchBundle(%d): %d bytes per entry, want %d..%d", tt.entries, avg, tt.minAvg, tt.maxAv)
		}
	}
	if !bytes.Equal(BenchBundle(50, 9), BenchBundle(50, 9)) {
		t.Error("BenchBundle is not deterministic")
	}
	rs := BenchResources(1000, 1)
	sensitive, part2, withComponents := 0, 0, 0
	for _, r := range rs {
		if r.Sensitive() {
			sensitive++
		}
		if r.Part2 {
			part2++
		}
		if bytes.Contains(r.JSON, []byte(`"component":`)) {
			withComponents++
		}
	}
	if sensitive < 20 || sensitive > 300 || part2 == 0 || withComponents == 0 {
		t.Errorf("1000 resources: %d sensitive, %d Part 2, %d with components", sensitive, part2, withComponents)
	}
}
