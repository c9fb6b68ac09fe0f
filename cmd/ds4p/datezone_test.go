package main

import (
	"strings"
	"testing"
)

// TestConsentsDateZoneConfig: consents.date_zone takes an IANA zone, from
// the file or DS4P_CONSENTS_DATE_ZONE, and refuses anything else by name
// (a zone that does not load, "Local", an abbreviation such as EST).
func TestConsentsDateZoneConfig(t *testing.T) {
	t.Parallel()
	base := []string{"--upstream", "http://x/fhir", "--dev-auth"}
	c, err := loadConfig(base, nil)
	if err != nil {
		t.Fatal(err)
	}
	if loc, err := c.Consents.dateZone(); err != nil || loc != nil {
		t.Errorf("default date zone %v, %v; want none", loc, err)
	}
	file := writeConfig(t, "consents:\n  date_zone: America/New_York\n")
	c, err = loadConfig(append([]string{"--config", file}, base...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if loc, err := c.Consents.dateZone(); err != nil || loc == nil || loc.String() != "America/New_York" {
		t.Errorf("date_zone from the file: %v, %v", loc, err)
	}
	c, err = loadConfig(append([]string{"--config", file}, base...), []string{"DS4P_CONSENTS_DATE_ZONE=Pacific/Kiritimati"})
	if err != nil || c.Consents.DateZone != "Pacific/Kiritimati" {
		t.Errorf("DS4P_CONSENTS_DATE_ZONE did not override the file: %q, %v", c.Consents.DateZone, err)
	}
	for _, bad := range []string{"Local", "EST", "America/Nowhere", "+05:00", "../../etc/passwd"} {
		_, err := loadConfig(base, []string{"DS4P_CONSENTS_DATE_ZONE=" + bad})
		if err == nil || !strings.Contains(err.Error(), "consents.date_zone") {
			t.Errorf("date zone %q was accepted: %v", bad, err)
		}
	}
}
