package main

import (
	"context"
	"errors"
	"io"
)

// runConsent is `ds4p consent import|list|show|revoke` (the consents issue).
func runConsent(_ context.Context, _ []string, _, _ io.Writer) error {
	return errors.New("not implemented yet")
}
