package rego

import (
	"slices"
	"testing"
)

// TestPurposeHierarchyIsThePolicyData: PurposeHierarchy reads the embedded
// policy data's purpose_hierarchy (not a copy that could drift from it),
// and a caller that changes its answer changes no one else's.
func TestPurposeHierarchyIsThePolicyData(t *testing.T) {
	h := PurposeHierarchy()
	if !slices.Contains(h["HPAYMT"], "COVERAGE") || !slices.Contains(h["COVERAGE"], "ELIGVER") || !slices.Contains(h["TREAT"], "ETREAT") {
		t.Fatalf("purpose_hierarchy of ds4p/config/data.json not read: %v", h)
	}
	h["HPAYMT"][0] = "changed"
	delete(h, "TREAT")
	if again := PurposeHierarchy(); slices.Contains(again["HPAYMT"], "changed") || again["TREAT"] == nil {
		t.Fatalf("a caller's change reached the next caller: %v", again)
	}
}
