package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// bundleKeyTypes says which keys sign and verify policy bundles, and with
// which JWS algorithm: the key's type chooses it, on both sides, so that
// `ds4p policy build` and serve agree without configuring it.
const bundleKeyTypes = "RSA (RS256), EC P-256 (ES256), P-384 (ES384), P-521 (ES512) or Ed25519 (EdDSA)"

// bundleKeyAlg is the JWS algorithm of a bundle signature made or checked
// with key (a private or a public key).
func bundleKeyAlg(key any) (string, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "RS256", nil
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "EdDSA", nil
	case *ecdsa.PrivateKey:
		return ecdsaAlg(k.Curve)
	case *ecdsa.PublicKey:
		return ecdsaAlg(k.Curve)
	}
	return "", fmt.Errorf("a %T key cannot sign policy bundles: use %s", key, bundleKeyTypes)
}

func ecdsaAlg(c elliptic.Curve) (string, error) {
	switch c {
	case elliptic.P256():
		return "ES256", nil
	case elliptic.P384():
		return "ES384", nil
	case elliptic.P521():
		return "ES512", nil
	}
	return "", fmt.Errorf("an EC key on curve %s cannot sign policy bundles: use %s", c.Params().Name, bundleKeyTypes)
}

// bundleSigningKey reads the PEM private key of `ds4p policy build
// --signing-key` (PKCS #8, PKCS #1 or SEC 1; other PEM blocks, such as EC
// PARAMETERS, are skipped) and returns it as a PKCS #8 PEM with the
// algorithm its type signs with.
func bundleSigningKey(raw []byte) ([]byte, string, error) {
	for rest := raw; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, "", errors.New("no PEM private key in it (want PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
		}
		var key any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, "", errors.New("the private key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN)")
		case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
			return nil, "", fmt.Errorf("it holds a %s: signing needs the private key (the public key is serve's policy.bundle_public_key)", b.Type)
		default:
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("its %s does not parse: %w", b.Type, err)
		}
		alg, err := bundleKeyAlg(key)
		if err != nil {
			return nil, "", err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, "", err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), alg, nil
	}
}

// bundleVerifyKey reads serve's policy.bundle_public_key (PUBLIC KEY, RSA
// PUBLIC KEY or a CERTIFICATE) and returns it as a PKIX PEM with the
// algorithm bundle signatures by its private key use.
func bundleVerifyKey(raw []byte) ([]byte, string, error) {
	for rest := raw; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, "", errors.New("no PEM public key in it (want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE)")
		}
		var key any
		var err error
		switch b.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(b.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(b.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			if cert, err = x509.ParseCertificate(b.Bytes); err == nil {
				key = cert.PublicKey
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			return nil, "", fmt.Errorf("it holds a %s: give serve the public key (openssl pkey -in KEY -pubout), keep the private key off the proxies", b.Type)
		default:
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("its %s does not parse: %w", b.Type, err)
		}
		alg, err := bundleKeyAlg(key)
		if err != nil {
			return nil, "", err
		}
		der, err := x509.MarshalPKIXPublicKey(key)
		if err != nil {
			return nil, "", err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), alg, nil
	}
}
