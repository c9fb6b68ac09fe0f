package authn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Development tokens: `ds4p token` signs them with an ES256 key it keeps in
// the data directory, and `ds4p serve --dev-auth` trusts that key. They carry
// DevIssuer and DevAudience.
const (
	DevKeyFile  = "dev-signing-key.jwk"
	DevIssuer   = "ds4p-dev"
	DevAudience = "ds4p"
)

// DevClaims are the claims of a development token.
type DevClaims struct {
	Subject    string
	Org        string
	Client     string
	Purposes   []string // none: the token states no purpose of use
	Scopes     []string
	BreakGlass string
	// OrgName and OrgAddress are the recipient's name and address for the
	// accounting of disclosures (claims org_name, org_address).
	OrgName, OrgAddress string
	// Patient is the SMART patient context (a Patient id): the token then
	// reaches only that patient's compartment.
	Patient string
	// FHIRUser is the SMART fhirUser claim: the user's own FHIR resource
	// (Patient/ID when the patient signs in).
	FHIRUser string
	TTL      time.Duration
}

// DevSigningKey loads the development signing key of dataDir, creating it
// (mode 0600) when create is set and it does not exist yet.
func DevSigningKey(dataDir string, create bool) (jwk.Key, error) {
	path := filepath.Join(dataDir, DevKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return newDevKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("authn: reading dev signing key (run `ds4p token` once to create it): %w", err)
	}
	key, err := jwk.ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("authn: parsing dev signing key %s: %w", path, err)
	}
	return key, nil
}

func newDevKey(path string) (jwk.Key, error) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("authn: generating dev key: %w", err)
	}
	key, err := jwk.FromRaw(raw)
	if err != nil {
		return nil, fmt.Errorf("authn: wrapping dev key: %w", err)
	}
	kid := make([]byte, 8)
	_, _ = rand.Read(kid)
	_ = key.Set(jwk.KeyIDKey, "dev-"+hex.EncodeToString(kid))
	_ = key.Set(jwk.AlgorithmKey, jwa.ES256)
	b, err := json.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("authn: encoding dev key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("authn: creating data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return DevSigningKey(filepath.Dir(path), false) // another process won the race
	}
	if err != nil {
		return nil, fmt.Errorf("authn: writing dev key: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return nil, fmt.Errorf("authn: writing dev key: %w", err)
	}
	return key, f.Sync()
}

// DevPublicKeys returns the public half of dataDir's development key as a set
// a Verifier can trust.
func DevPublicKeys(dataDir string) (jwk.Set, error) {
	key, err := DevSigningKey(dataDir, false)
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	if err := set.AddKey(key); err != nil {
		return nil, fmt.Errorf("authn: building dev key set: %w", err)
	}
	return publicOnly(set)
}

func publicOnly(set jwk.Set) (jwk.Set, error) {
	pub, err := jwk.PublicSetOf(set)
	if err != nil {
		return nil, fmt.Errorf("authn: taking public keys: %w", err)
	}
	for i := 0; i < pub.Len(); i++ {
		k, _ := pub.Key(i)
		if k.KeyType() == "oct" {
			return nil, errors.New("authn: symmetric (oct) keys are not accepted")
		}
	}
	return pub, nil
}

// MintDev signs a development token for c with dataDir's key.
func MintDev(dataDir string, c DevClaims) (string, error) {
	key, err := DevSigningKey(dataDir, true)
	if err != nil {
		return "", err
	}
	if c.TTL <= 0 {
		c.TTL = time.Hour
	}
	now := time.Now()
	b := jwt.NewBuilder().
		Issuer(DevIssuer).
		Audience([]string{DevAudience}).
		Subject(c.Subject).
		IssuedAt(now).
		NotBefore(now).
		Expiration(now.Add(c.TTL)).
		JwtID(randomID())
	if c.Org != "" {
		b = b.Claim("org", c.Org)
	}
	if c.Client != "" {
		b = b.Claim("client_id", c.Client)
	}
	if len(c.Purposes) > 0 {
		b = b.Claim("purpose_of_use", c.Purposes)
	}
	if len(c.Scopes) > 0 {
		b = b.Claim("scope", strings.Join(c.Scopes, " "))
	}
	if c.BreakGlass != "" {
		b = b.Claim("break_glass_reason", c.BreakGlass)
	}
	if c.OrgName != "" {
		b = b.Claim("org_name", c.OrgName)
	}
	if c.OrgAddress != "" {
		b = b.Claim("org_address", c.OrgAddress)
	}
	if c.FHIRUser != "" {
		b = b.Claim("fhirUser", c.FHIRUser)
	}
	if c.Patient != "" {
		b = b.Claim("patient", c.Patient)
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("authn: building token: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.ES256, key))
	if err != nil {
		return "", fmt.Errorf("authn: signing token: %w", err)
	}
	return string(signed), nil
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
