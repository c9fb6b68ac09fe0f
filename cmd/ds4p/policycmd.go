package main

import (
	"context"
	"errors"
	"io"
)

// runPolicy is `ds4p policy test|check|eval` (the policy issue).
func runPolicy(_ context.Context, _ []string, _, _ io.Writer) error {
	return errors.New("not implemented yet")
}
