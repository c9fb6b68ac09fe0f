package fhirmem

import (
	"encoding/json"
	"net/http"
)

// capabilityDate is the fixed publication date of the CapabilityStatement.
const capabilityDate = "2026-01-01"

type capabilityStatement struct {
	ResourceType   string         `json:"resourceType"`
	Status         string         `json:"status"`
	Date           string         `json:"date"`
	Kind           string         `json:"kind"`
	Software       named          `json:"software"`
	Implementation implementation `json:"implementation"`
	FHIRVersion    string         `json:"fhirVersion"`
	Format         []string       `json:"format"`
	Rest           []rest         `json:"rest"`
}

type named struct {
	Name string `json:"name"`
}

type implementation struct {
	Description string `json:"description"`
	URL         string `json:"url"`
}

type rest struct {
	Mode     string               `json:"mode"`
	Resource []capabilityResource `json:"resource"`
}

type capabilityResource struct {
	Type          string        `json:"type"`
	Interaction   []code        `json:"interaction"`
	SearchInclude []string      `json:"searchInclude,omitempty"`
	SearchParam   []searchParam `json:"searchParam"`
	Operation     []operation   `json:"operation,omitempty"`
}

type code struct {
	Code string `json:"code"`
}

type searchParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type operation struct {
	Name       string `json:"name"`
	Definition string `json:"definition"`
}

var interactions = []code{
	{"read"}, {"vread"}, {"history-instance"}, {"search-type"}, {"create"}, {"update"}, {"delete"},
}

// capabilities answers GET metadata with a minimal CapabilityStatement
// listing the resource types currently stored (and always Patient).
func (s *Server) capabilities(r *http.Request) response {
	types := s.types()
	hasPatient := false
	var resources []capabilityResource
	for _, t := range types {
		hasPatient = hasPatient || t == "Patient"
		resources = append(resources, capabilityFor(t))
	}
	if !hasPatient {
		resources = append([]capabilityResource{capabilityFor("Patient")}, resources...)
	}
	body, _ := json.Marshal(capabilityStatement{ // plain strings and slices always marshal
		ResourceType: "CapabilityStatement", Status: "active", Date: capabilityDate, Kind: "instance",
		Software:       named{"ds4p fhirmem"},
		Implementation: implementation{"ds4p in-memory FHIR R4 server (tests and demo only)", s.urls(r).root},
		FHIRVersion:    "4.0.1",
		Format:         []string{"application/fhir+json", "json"},
		Rest:           []rest{{Mode: "server", Resource: resources}},
	})
	return jsonResponse(http.StatusOK, body)
}

func capabilityFor(typ string) capabilityResource {
	c := capabilityResource{Type: typ, Interaction: interactions, SearchParam: []searchParam{{"_id", "token"}}}
	if typ == "Patient" {
		c.Operation = []operation{{"everything", "http://hl7.org/fhir/OperationDefinition/Patient-everything"}}
		return c
	}
	c.SearchParam = append(c.SearchParam, searchParam{"patient", "reference"}, searchParam{"subject", "reference"})
	c.SearchInclude = []string{typ + ":patient", typ + ":subject"}
	return c
}
