package authn

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// ErrClientCertificate is a token whose client (client_id or azp) is not
// the one the connection's verified TLS client certificate names.
var ErrClientCertificate = errors.New("client certificate does not match the token's client")

// ErrUnnamedClientCertificate is a verified TLS client certificate that
// names no client (no URI SAN, no subject CN): it binds no token.
var ErrUnnamedClientCertificate = fmt.Errorf("%w: the certificate names no client (no URI SAN, no subject CN)", ErrClientCertificate)

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
func BindClient(caller *Caller, cs *tls.ConnectionState) error {
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
		return nil
	}
	return ErrClientCertificate
}
