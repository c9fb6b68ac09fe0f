package main

import (
	"strings"
	"testing"
)

// TestConfigFileIsOneDocument: settings in a second YAML document are
// refused, not ignored; a file with one document (and a leading ---) loads.
func TestConfigFileIsOneDocument(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://fhir.example/r4\n---\nauth:\n  dev: true\n")
	_, err := loadConfig([]string{"--config", file}, nil)
	if err == nil || !strings.Contains(err.Error(), "line 3: a second YAML document") {
		t.Errorf("a second document: %v", err)
	}
	file = writeConfig(t, "---\nupstream: http://fhir.example/r4\nauth:\n  dev: true\n")
	if c, err := loadConfig([]string{"--config", file}, nil); err != nil || !c.Auth.Dev {
		t.Errorf("one document after ---: %v, dev %v", err, c.Auth.Dev)
	}
	file = writeConfig(t, "# nothing set\n")
	if _, err := loadConfig([]string{"--config", file, "--upstream", "http://fhir.example/r4", "--dev-auth"}, nil); err != nil {
		t.Errorf("a file of comments: %v", err)
	}
}

func TestConfigFileTrailingSeparator(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, "upstream: http://fhir.example/r4\nauth:\n  dev: true\n---\n")
	if _, err := loadConfig([]string{"--config", file}, nil); err != nil {
		t.Errorf("a trailing ---: %v", err)
	}
}
