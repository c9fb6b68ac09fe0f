package main

import (
	"strings"
	"testing"
	"time"
)

// The label-target settings come from the environment too, and a wrong
// value is refused with the setting's name.
func TestLabelTargetEnv(t *testing.T) {
	var c Config
	if err := c.applyEnv([]string{"DS4P_LABELS_UNKNOWN_TARGETS=ignore", "DS4P_LABELS_KNOWN_TTL=90s"}); err != nil {
		t.Fatal(err)
	}
	if c.Labels.UnknownTargets != "ignore" || c.Labels.KnownTTL != 90*time.Second {
		t.Fatalf("labels %+v", c.Labels)
	}
	_, err := loadConfig([]string{"--upstream", "http://127.0.0.1:1/fhir", "--dev-auth", "--data", t.TempDir()}, []string{"DS4P_LABELS_UNKNOWN_TARGETS=sometimes"})
	if err == nil || !strings.Contains(err.Error(), "labels.unknown_targets") {
		t.Fatalf("unknown_targets sometimes: %v", err)
	}
}
