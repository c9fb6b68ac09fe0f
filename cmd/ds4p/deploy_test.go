package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The deployment kit in deploy/: a systemd unit and the configuration it
// starts serve with. These tests hold the two to each other and to serve:
// a kit whose config does not load, or whose unit hands serve a path it
// cannot reach, fails at a site's first start.

// unitFile reads a systemd unit into its directives (repeated ones in
// order), sections ignored.
func unitFile(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not a directive: %q", path, line)
		}
		out[k] = append(out[k], v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func one(t *testing.T, u map[string][]string, k string) string {
	t.Helper()
	if len(u[k]) != 1 {
		t.Fatalf("deploy/ds4p.service: %s given %d times, want once", k, len(u[k]))
	}
	return u[k][0]
}

// TestDeployKit: the unit starts `ds4p serve` with deploy/ds4p.yaml, which
// loads as serve loads it; the data directory is the unit's StateDirectory;
// every /run/credentials path the config names is a credential the unit
// loads; the listen port needs no capability the unit withholds; and the
// hardening a reviewer looks for is there.
func TestDeployKit(t *testing.T) {
	t.Parallel()
	u := unitFile(t, "../../deploy/ds4p.service")

	args := strings.Fields(one(t, u, "ExecStart"))
	if len(args) < 2 || filepath.Base(args[0]) != "ds4p" || args[1] != "serve" {
		t.Fatalf("ExecStart %q does not run ds4p serve", args)
	}
	serveArgs := args[2:]
	var confPath string
	for i, a := range serveArgs {
		if a == "--config" && i+1 < len(serveArgs) {
			confPath = serveArgs[i+1]
			serveArgs[i+1] = "../../deploy/ds4p.yaml" // the kit's copy of /etc/ds4p/ds4p.yaml
		}
	}
	if confPath != "/etc/ds4p/"+"ds4p.yaml" || one(t, u, "ConfigurationDirectory") != "ds4p" {
		t.Fatalf("the unit reads its config from %q; the kit ships it as /etc/ds4p/ds4p.yaml", confPath)
	}
	env := u["Environment"]
	// The credentials, as systemd hands them over: files in a directory
	// of the service's (here a temporary one, holding a key of the kind
	// the config names).
	creds := map[string]bool{}
	credDir := t.TempDir()
	for _, c := range u["LoadCredential"] {
		name, _, _ := strings.Cut(c, ":")
		creds[name] = true
		if err := os.WriteFile(filepath.Join(credDir, name), testECKeyPEM(t), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	const runCreds = "/run/credentials/ds4p.service/"
	raw, err := os.ReadFile("../../deploy/ds4p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(t.TempDir(), "ds4p.yaml")
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(string(raw), runCreds, credDir+"/")), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, a := range serveArgs {
		if a == "../../deploy/ds4p.yaml" {
			serveArgs[i] = conf
		}
	}
	cfg, err := loadConfig(serveArgs, env)
	if err != nil {
		t.Fatalf("deploy/ds4p.yaml does not load as serve loads it: %v", err)
	}

	state := "/var/lib/" + one(t, u, "StateDirectory")
	if cfg.DataDir != state || one(t, u, "WorkingDirectory") != state {
		t.Fatalf("data_dir %q, WorkingDirectory %q; the unit's StateDirectory is %s", cfg.DataDir, one(t, u, "WorkingDirectory"), state)
	}
	if m := one(t, u, "StateDirectoryMode"); m != "0700" {
		t.Fatalf("StateDirectoryMode %s: the data directory must be the service's alone", m)
	}

	// Credentials: every path under the credentials directory is loaded.
	var named int
	walkStrings(reflect.ValueOf(cfg), func(s string) {
		if name, ok := strings.CutPrefix(s, credDir+"/"); ok {
			named++
			if !creds[name] {
				t.Errorf("the config names %s%s, which the unit does not load (LoadCredential=%s:...)", runCreds, name, name)
			}
		}
	})
	if named != len(creds) {
		t.Errorf("the unit loads %d credentials, the config names %d", len(creds), named)
	}
	// The storage key is watched for rotation: a credential's copy would
	// never change.
	if strings.HasPrefix(cfg.Storage.KeyFile, credDir) || cfg.Storage.KeyFile == "" || strings.HasPrefix(cfg.Storage.KeyFile, state) {
		t.Errorf("storage.key_file %q: a file of its own apart from the data, not a credential", cfg.Storage.KeyFile)
	}

	// No capabilities: the port must not need CAP_NET_BIND_SERVICE.
	_, port, _ := strings.Cut(cfg.Listen, ":")
	if n, err := strconv.Atoi(port); err != nil || n < 1024 {
		t.Errorf("listen %s needs a capability the unit withholds", cfg.Listen)
	}
	for k, want := range map[string]string{
		"User": "ds4p", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "ProtectSystem": "strict",
		"ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes", "UMask": "0077",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute": "yes",
		"SystemCallArchitectures": "native", "Restart": "on-failure",
	} {
		if got := one(t, u, k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
	// No ExecReload: serve ignores SIGHUP (it reads its configuration at
	// start only), so `systemctl reload` would silently do nothing.
	if len(u["ExecReload"]) > 0 {
		t.Error("ExecReload set: serve ignores SIGHUP; changes need a restart")
	}
	// GOMEMLIMIT below MemoryMax, or the collector runs into the kill.
	if !strings.HasPrefix(strings.Join(env, " "), "GOMEMLIMIT=") || one(t, u, "MemoryMax") == "" {
		t.Errorf("Environment %q, MemoryMax %q: GOMEMLIMIT goes with MemoryMax", env, u["MemoryMax"])
	}

	users, err := os.ReadFile("../../deploy/ds4p.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(users), "\nu ds4p - ") {
		t.Errorf("deploy/ds4p.sysusers does not create the user %s the unit runs as", one(t, u, "User"))
	}
}

// walkStrings calls f with every string in v (structs, slices, maps).
func walkStrings(v reflect.Value, f func(string)) {
	switch v.Kind() {
	case reflect.String:
		f(v.String())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(v.MapIndex(k), f)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), f)
		}
	}
}

// testECKeyPEM is a P-384 private key in PKCS #8 PEM, as the upstream
// client's key file holds.
func testECKeyPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
