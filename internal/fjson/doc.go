// Package fjson scans and splices FHIR JSON at byte level.
//
// The response path of the proxy never decodes a body into map[string]any:
// maps are slow, reorder keys and rewrite numbers (60.40 becomes 60.4). This
// package instead finds values by offset and changes a body by splicing edits
// into the original bytes, so that every byte that is not edited leaves
// exactly as it came: number spellings, unicode escapes, key order and
// whitespace.
//
// The scanner is strict: SkipValue, ObjectScan and ArrayScan check every byte
// they pass over against RFC 8259 (string escapes, control characters,
// UTF-8, number grammar, literals, matching brackets), so a walk that visits
// or skips every value of a document has also validated it. Validate adds
// what a single skip cannot see: the nesting limit chosen by the caller and
// duplicate keys, which FHIR forbids (a second "security" could hide labels
// from one reader and show them to another).
//
// Strings, most of a FHIR body, are checked eight bytes at a time with word
// arithmetic (special); on amd64 CPUs with AVX2, a string still plain after
// sixteen bytes is read 32 bytes a step (special_amd64.s). The purego build
// tag keeps the portable path. test/bench/instructions.sh measures changes
// here by instruction count, which this shared machine's wall clock cannot.
//
// Offsets are indexes into the caller's slice. Functions that take a start
// offset accept whitespace before the value; the offsets they report point at
// the first byte of a value and just past its last byte.
package fjson
