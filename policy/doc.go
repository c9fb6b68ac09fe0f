// Package policy is the OPA v1 engine of ds4p: it loads Rego modules and
// policy data from an fs.FS (the embedded default lives in package rego),
// compiles and prepares the decision query once per policy revision, and
// answers one Decision per decision class.
//
// The input and decision contract is versioned (InputVersion) and documented
// by the JSON Schemas in rego/schema. A decision depends only on its Input:
// the caller, the request, the patient, the patient's normalised consents and
// the item's type, labels and source. That is what lets the proxy evaluate once
// per decision class instead of once per resource.
package policy
