package main

import (
	"os"
	"regexp"
	"testing"
)

// TestUnitConfigurationDirectoryModeQA40C (QA round 40, area C): the unit
// declares ConfigurationDirectory=ds4p without a mode, so systemd's
// default 0755 applies, while deploy/README.md installs /etc/ds4p 0750
// (root:ds4p: it holds the storage key and the TLS key). systemd leaves an
// existing configuration directory as it is but logs at every start
// "ConfigurationDirectory 'ds4p' already exists but the mode is
// different. (File system: 750 ConfigurationDirectoryMode: 755)", which
// invites an operator to chmod 755 it; and where /etc/ds4p was not made
// first, systemd makes it 0755. The unit now says 0750, the README's mode.
func TestUnitConfigurationDirectoryModeQA40C(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../deploy/README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`install -d -m (0[0-7]{3}) -g ds4p /etc/ds4p `).FindSubmatch(readme)
	if m == nil {
		t.Fatal("deploy/README.md: no `install -d -m MODE -g ds4p /etc/ds4p` line")
	}
	u := unitFile(t, "../../deploy/ds4p.service")
	if len(u["ConfigurationDirectoryMode"]) != 1 || u["ConfigurationDirectoryMode"][0] != string(m[1]) {
		t.Errorf("ConfigurationDirectoryMode %q, want %s as deploy/README.md installs /etc/ds4p (systemd's default is 0755)",
			u["ConfigurationDirectoryMode"], m[1])
	}
}
