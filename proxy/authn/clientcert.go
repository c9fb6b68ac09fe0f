package authn

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwt"
)

// ErrClientCertificate is a token whose client (client_id or azp) is not
// the one the connection's verified TLS client certificate names.
var ErrClientCertificate = errors.New("client certificate does not match the token's client")

// ErrUnnamedClientCertificate is a verified TLS client certificate that
// names no client (no URI SAN, no subject CN): it binds no token.
var ErrUnnamedClientCertificate = fmt.Errorf("%w: the certificate names no client (no URI SAN, no subject CN)", ErrClientCertificate)

// ErrCertificateBoundToken is a token bound to a client certificate (cnf
// x5t#S256, RFC 8705) presented over a connection without that
// certificate: a copy of it is not the client holding it.
var ErrCertificateBoundToken = errors.New("the token is bound to a client certificate (cnf x5t#S256) the connection did not present")

// ClientBindingMessage is what a caller is told when BindClient refused its
// token for err: which of the binding rules it broke, nothing more.
func ClientBindingMessage(err error) string {
	switch {
	case errors.Is(err, ErrUnnamedClientCertificate):
		return "the TLS client certificate names no client (no URI SAN, no subject CN), so no bearer token can be bound to it"
	case errors.Is(err, ErrCertificateBoundToken):
		return "the bearer token is bound to a TLS client certificate (cnf x5t#S256) this connection did not present"
	}
	return "the bearer token was issued to another client than the TLS client certificate names"
}

// errAuthorizedParty is a token whose azp names another client than its
// client_id, presented with a client certificate.
var errAuthorizedParty = fmt.Errorf("%w: the token's azp names another client than its client_id", ErrClientCertificate)

// ClientIdentity names the caller's verified TLS client certificate: its
// first URI SAN, else its subject CN; "" without a verified certificate.
func ClientIdentity(cs *tls.ConnectionState) string {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return ""
	}
	leaf := cs.VerifiedChains[0][0]
	if len(leaf.URIs) > 0 {
		return leaf.URIs[0].String()
	}
	return leaf.Subject.CommonName
}

// BindClient binds a verified caller to the connection's client
// certificate (mutual TLS): a token without a client takes the
// certificate's identity as its Client, and a token naming another client
// is refused with ErrClientCertificate. Without a verified certificate it
// changes nothing. The proxy's edge and the web console's sign-in both
// apply it, so a token is bound the same way wherever it is presented.
//
// A verified certificate naming no client (no URI SAN, no CN) is refused
// too: it cannot bind a token, and accepting it left any token, another
// client's included, usable over it (QA round 19). A token whose client_id
// and azp both name a client must have both name the certificate's: the
// client_id alone was compared, so a token azp said was issued to another
// client passed with a certificate naming its client_id.
//
// A certificate-bound token (cnf x5t#S256, RFC 8705) is refused with
// ErrCertificateBoundToken unless the connection's client certificate has
// that SHA-256 thumbprint, whatever client it names: it was accepted as a
// bearer token over any connection, so a stolen copy worked without the
// certificate's key.
//
// A token that names no client takes the certificate's, and the purposes
// it states are limited for that client (Config.ClientPurposes) as for a
// client the token names: they were not when the token was verified, for
// no client, so a payer's app known by its certificate alone stated TREAT
// and had it (QA round 26).
func BindClient(caller *Caller, cs *tls.ConnectionState) error {
	if caller.badCnf {
		return fmt.Errorf("%w: its cnf claim has no readable x5t#S256", ErrCertificateBoundToken)
	}
	if caller.certThumbprint != "" {
		if cs == nil || len(cs.PeerCertificates) == 0 {
			return ErrCertificateBoundToken
		}
		sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
		if base64.RawURLEncoding.EncodeToString(sum[:]) != caller.certThumbprint {
			return ErrCertificateBoundToken
		}
	}
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return nil
	}
	id := ClientIdentity(cs)
	switch {
	case id == "":
		return ErrUnnamedClientCertificate
	case caller.azp != "" && caller.azp != id:
		return errAuthorizedParty
	case caller.Client == id:
		return nil
	case caller.Client == "":
		caller.Client = id
		if caller.limits != nil {
			// The purposes were limited for no client when the token
			// was verified: limit them for this one, in a copy (the
			// verified-token cache holds the token's own).
			caller.Purposes = caller.limits.ClientAllowed(id, slices.Clone(caller.Purposes))
		}
		return nil
	}
	return ErrClientCertificate
}

// cnfThumbprint reads the token's confirmation claim: the certificate
// thumbprint of cnf "x5t#S256" without padding, and bad when cnf is
// present but gives none this package can hold the token to (another
// confirmation method, jkt for DPoP, is not supported: refused rather
// than accepted as a bearer token).
func cnfThumbprint(tok jwt.Token) (thumbprint string, bad bool) {
	v, ok := tok.Get("cnf")
	if !ok {
		return "", false
	}
	m, ok := v.(map[string]any)
	if !ok {
		return "", true
	}
	s, ok := m["x5t#S256"].(string)
	s = strings.TrimRight(s, "=")
	if !ok || s == "" {
		return "", true
	}
	return s, false
}
