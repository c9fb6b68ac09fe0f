package synth

import (
	"bytes"
	"strings"
)

// SearchsetBundle returns a searchset Bundle holding resources as matches,
// with total, a self link and absolute fullUrls under baseURL (for example
// "http://localhost:8080/fhir"). Resource bytes are embedded unchanged.
func SearchsetBundle(resources []Resource, baseURL string) []byte {
	base := strings.TrimRight(baseURL, "/")
	self := base
	if t := commonType(resources); t != "" {
		self += "/" + t
	}
	var b bytes.Buffer
	b.Grow(searchsetSize(resources))
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","total":`)
	writeJSON(&b, len(resources))
	b.WriteString(`,"link":[{"relation":"self","url":`)
	writeString(&b, self)
	b.WriteString(`}],"entry":[`)
	for i, r := range resources {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"fullUrl":`)
		writeString(&b, base+"/"+r.Type+"/"+r.ID)
		b.WriteString(`,"resource":`)
		b.Write(r.JSON)
		b.WriteString(`,"search":{"mode":"match"}}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// commonType returns the type all resources share, or "" when they differ.
func commonType(resources []Resource) string {
	if len(resources) == 0 {
		return ""
	}
	t := resources[0].Type
	for _, r := range resources[1:] {
		if r.Type != t {
			return ""
		}
	}
	return t
}

func searchsetSize(resources []Resource) int {
	n := 256
	for _, r := range resources {
		n += len(r.JSON) + 160
	}
	return n
}

// BenchBaseURL is the base URL of the server BenchBundle pretends to be.
const BenchBaseURL = "http://ehr.example.org/fhir"

// BenchBundle returns a realistic searchset Bundle of exactly entries
// resources for benchmarks: the patient records of a seeded population
// (Patients, Encounters, Conditions, Observations with components and
// decimals, MedicationRequests, Immunizations, AllergyIntolerances). About
// 7-11% of them are sensitive and 3-5% are Part 2 records; resources
// average about 2.2 KB and an entry about 2.4 KB.
func BenchBundle(entries int, seed int64) []byte {
	return SearchsetBundle(BenchResources(entries, seed), BenchBaseURL)
}

// BenchResources returns the resources BenchBundle embeds, with their
// ground truth.
func BenchResources(entries int, seed int64) []Resource {
	out := make([]Resource, 0, max(entries, 0))
	for i := 0; len(out) < entries; i++ {
		rs := generatePatient(seed, i)
		out = append(out, rs[:min(len(rs), entries-len(out))]...)
	}
	return out
}
