// Package rego holds the Rego policies that compliance staff edit, their
// tests, the policy data they read and the JSON Schema of the policy input
// and decision. FS exposes them as the embedded default of the policy engine.
//
// Layout (the same as `opa eval -d rego/`):
//
//	ds4p/*.rego                       package ds4p: the decision for one item,
//	                                  one file per concern (see main.rego)
//	ds4p/*_test.rego                  Rego unit tests beside each file (opa test)
//	ds4p/config/data.json             policy data, read as data.ds4p.config
//	ds4p/config/state_law/data.json   the state-law table, data.ds4p.config.state_law
//	cases/*.yaml                      the case matrix (purpose x consent x labels
//	                                  x caller -> decision), run by go test and
//	                                  ds4p policy test
//	schema/                           JSON Schema of input, decision and policy
//	                                  data, with example inputs and decisions
//
// A copy of this tree is what `ds4p serve --policy-dir` reads and reloads.
package rego

import "embed"

// Query is the Rego query the engine evaluates for every decision class.
const Query = "data.ds4p.decision"

//go:embed ds4p schema cases
var files embed.FS

// FS returns the embedded policy tree (modules, tests and data).
func FS() embed.FS { return files }
