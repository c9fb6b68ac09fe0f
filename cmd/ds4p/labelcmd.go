package main

import (
	"context"
	"errors"
	"io"
)

// runLabel is `ds4p label` (the labelling issue).
func runLabel(_ context.Context, _ []string, _, _ io.Writer) error {
	return errors.New("not implemented yet")
}
