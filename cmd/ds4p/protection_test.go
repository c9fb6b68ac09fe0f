package main

import (
	"strings"
	"testing"
	"time"
)

// TestProtectionDefaultsOn: a configuration without the sections gets
// rate limits and bulk alerts on (no block) and no SIEM.
func TestProtectionDefaultsOn(t *testing.T) {
	t.Parallel()
	c, err := loadConfig([]string{"--config", writeConfig(t, "upstream: http://x/fhir\nauth:\n  dev: true\n")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := c.proxyOptions()
	if !o.Protection.RateLimits.Enabled || !o.Protection.Bulk.Enabled || o.Protection.Bulk.Block {
		t.Fatalf("defaults = %+v", o.Protection)
	}
	if o.Protection.RateLimits.Read.Rate != 100 || o.Protection.Bulk.MaxPatients != 200 {
		t.Fatalf("default limits = %+v", o.Protection)
	}
	if c.SIEM.enabled() {
		t.Fatal("the SIEM export is on without a sink")
	}
}

// TestProtectionAndSIEMConfig reads both sections from YAML and the
// environment, and reports every bad value at once.
func TestProtectionAndSIEMConfig(t *testing.T) {
	t.Parallel()
	file := writeConfig(t, `upstream: http://x/fhir
auth:
  dev: true
protection:
  rate_limits:
    read: {rate: 5, burst: 10}
    org_factor: 3
  bulk:
    window: 1m
    max_patients: 20
    block: true
siem:
  file: /tmp/siem.jsonl
  patient_ids: hash
  syslog: {network: tcp, address: "127.0.0.1:514", facility: local3}
`)
	c, err := loadConfig([]string{"--config", file}, []string{"DS4P_RATE_LIMITS_ENABLED=false"})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := c.proxyOptions()
	p := o.Protection
	if p.RateLimits.Enabled || p.RateLimits.Read.Rate != 5 || p.RateLimits.Read.Burst != 10 || p.RateLimits.OrgFactor != 3 ||
		p.RateLimits.Search.Rate != 50 || p.Bulk.Window != time.Minute || p.Bulk.MaxPatients != 20 || !p.Bulk.Block {
		t.Fatalf("protection = %+v", p)
	}
	if !c.SIEM.enabled() || !c.SIEM.Ledger || c.SIEM.PatientIDs != "hash" || c.SIEM.Syslog.Facility != "local3" {
		t.Fatalf("siem = %+v", c.SIEM)
	}
	bad := writeConfig(t, `upstream: http://x/fhir
auth:
  dev: true
protection:
  rate_limits:
    read: {rate: -1, burst: 1}
  bulk:
    enabled: false
    block: true
siem:
  patient_ids: sha1
  syslog: {network: http, address: "x", facility: kernel}
`)
	_, err = loadConfig([]string{"--config", bad}, nil)
	if err == nil {
		t.Fatal("bad protection and siem settings were accepted")
	}
	for _, want := range []string{"rate_limits.read", "block needs enabled", "siem.patient_ids", "siem.syslog.network", "siem.syslog.facility"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %q", err, want)
		}
	}
}
