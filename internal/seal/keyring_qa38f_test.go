package seal

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFileErrorsQuoteNoSecretQA38F: a key file line missing its id
// ("BASE64-KEY active") or with its fields swapped has the secret where
// the id goes, and the error quoted it: serve logs it when the key file
// is edited while it runs ("storage key file changed but was not
// loaded"), and prints it at start and from ds4p keys.
func TestKeyFileErrorsQuoteNoSecretQA38F(t *testing.T) {
	t.Parallel()
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	dir := t.TempDir()
	for name, line := range map[string]string{
		"no id":           secret + " active",
		"swapped":         secret + " 0000000a",
		"swapped, active": secret + " 0000000a active",
	} {
		if _, err := ParseKeyring([]byte(line + "\n")); err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:12]) {
			t.Errorf("%s: ParseKeyring: %v, want an error without the secret", name, err)
		}
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".key")
		if err := os.WriteFile(f, []byte(line+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(f); err == nil || strings.Contains(err.Error(), secret[:12]) {
			t.Errorf("%s: LoadKeyFile: %v, want an error without the secret", name, err)
		}
	}
	// An id that is no id is still named as the problem.
	if _, err := ParseKeyring([]byte("xyz " + secret + "\n")); err == nil || !strings.Contains(err.Error(), "key id") {
		t.Errorf("a bad id: %v, want it named", err)
	}
}
