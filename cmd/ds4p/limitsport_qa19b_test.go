package main

import (
	"strings"
	"testing"
)

// TestLimitsAndPortNamed: a limit that is not positive is named by its key
// with its value, and a listen port out of range is refused by the
// configuration check, before serve makes the data directory.
func TestLimitsAndPortNamed(t *testing.T) {
	t.Parallel()
	base := []string{"--upstream", "http://fhir.example/r4", "--dev-auth"}
	for env, want := range map[string]string{
		"DS4P_UPSTREAM_TIMEOUT=-1s":     "limits.upstream_timeout: -1s must be positive",
		"DS4P_MAX_BODY_BYTES=0":         "limits.max_body_bytes: 0 must be positive",
		"DS4P_STREAM_ABOVE_BYTES=-5":    "limits.stream_above_bytes: -5 must be positive",
		"DS4P_LISTEN=127.0.0.1:99999":   `listen: "127.0.0.1:99999": the port "99999" is not a port number`,
		"DS4P_LISTEN=127.0.0.1:htttp":   `the port "htttp" is not a port number`,
		"DS4P_HEAP_FLOOR_BYTES=1048576": "",
	} {
		_, err := loadConfig(base, []string{env})
		if want == "" {
			if err != nil {
				t.Errorf("%s: %v", env, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %q", env, err, want)
		}
		if strings.HasPrefix(want, "limits.") && strings.Count(err.Error(), "must be positive") != 1 {
			t.Errorf("%s: %v names other limits too", env, err)
		}
	}
}
