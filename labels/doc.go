// Package labels assigns HL7 DS4P security labels to FHIR R4 resources.
//
// It holds the label vocabulary (code systems, the confidentiality order
// U < L < M < N < R < V, legacy system URLs and their current form), Set,
// a sorted and deduplicated list of labels, and the Labeller, which reads a
// resource's existing meta.security labels and applies code rules to every
// Coding in it.
//
// The Labeller works on bytes (package internal/fjson): Label scans a
// resource once without decoding it into maps, and Edits returns splices
// that write the result into meta.security while every other byte of the
// resource stays as it came. Labels only ever grow: an existing label is
// never dropped, except that a resource keeps exactly one confidentiality
// label, the highest it has or is given.
//
// Code rules come from YAML rule files, one per sensitivity topic
// (rules/*.yaml, embedded as the default; LoadRules, Watch). Source rules
// (Program) give the records of a 42 CFR Part 2 program 42CFRPart2, SUD, R
// and NORDSCLCD. LabelAll labels the resources of one response as a batch
// and propagates labels along references, and from a bounded Cache of
// earlier responses. Labels added are written with the DS4P classifier
// extension, and with the basis extension when a policy (42CFRPart2) is
// their basis. See README.md for the rules, propagation and their limits.
//
// Element labels: codes or propagating references inside the elements of
// ExplanationOfBenefit and Claim diagnosis/item/procedure,
// Encounter.diagnosis, CarePlan.activity, DiagnosticReport.result,
// List.entry and Composition.section label that element (Result.Elements,
// with byte spans; written by Edits as DS4P inline label extensions, with
// PROCESSINLINELABEL on the resource) when the resource also has ordinary
// elements there and is not otherwise sensitive (Result.Mixed); otherwise
// the resource is labelled whole. Inline labels the upstream set are read
// into Elements and kept byte for byte. Result.Narrative and MarkNarrative
// tell enforcement to drop or replace text.div. Result.Effective and
// WholeResource apply element labels to the whole resource for receivers
// that cannot remove elements.
//
// Label does not treat Bundles specially: the proxy walks Bundle entries
// and labels each entry's resource. HighWaterMark and MarkEdits compute and
// write a Bundle's high-water mark from its disclosed entries.
package labels
