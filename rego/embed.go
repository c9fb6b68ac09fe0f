// Package rego holds the Rego policies that compliance staff edit, their
// tests, the policy data they read and the JSON Schema of the policy input
// and decision. FS exposes them as the embedded default of the policy engine.
//
// Layout (the same as `opa eval -d rego/`):
//
//	ds4p/main.rego          package ds4p: the decision for one item
//	ds4p/main_test.rego     Rego unit tests (opa test compatible)
//	ds4p/config/data.json   policy data, read as data.ds4p.config
//	schema/                 JSON Schema of input and decision, with examples
package rego

import "embed"

// Query is the Rego query the engine evaluates for every decision class.
const Query = "data.ds4p.decision"

//go:embed ds4p schema
var files embed.FS

// FS returns the embedded policy tree (modules, tests and data).
func FS() embed.FS { return files }
