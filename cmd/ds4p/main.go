// Command ds4p is a consent-aware data segmentation proxy for FHIR R4.
//
// Usage:
//
//	ds4p serve --upstream URL [--listen HOST:PORT] [--data DIR] [--config FILE] [--dev-auth]
//	ds4p demo  [--listen HOST:PORT] [--data DIR] [--check]
//	ds4p token --data DIR --sub S --org ORG [--purpose CODE] [--scope "..."]
//
// Run `ds4p help COMMAND` for the flags of each command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the proxy in front of a FHIR server", runServe},
		{"demo", "run the proxy in front of a demo FHIR server with synthetic patients, and print example requests", runDemo},
		{"token", "mint a development token trusted by `serve --dev-auth` with the same --data", runToken},
		{"label", "label a FHIR resource, Bundle or NDJSON file offline and summarise why", runLabel},
		{"consent", "import, list, show and revoke consents in the data directory (with serve stopped)", runConsent},
		{"policy", "test, check, evaluate and export the Rego policy (compliance staff)", runPolicy},
		{"audit", "query, report on, export, verify and prune the disclosure ledger (with serve stopped)", runAudit},
		{"keys", "generate, add, rotate and remove the storage keys that encrypt the database; status per key", runKeys},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	if args[0] == "help" {
		return help(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdout, stderr)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "ds4p %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "ds4p: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func help(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 0
	}
	return run(ctx, []string{args[0], "--help"}, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "ds4p: a consent-aware data segmentation proxy for FHIR R4")
	fmt.Fprintln(w, "\nEvery response from the FHIR server is labelled (DS4P security labels),")
	fmt.Fprintln(w, "decided by Rego policy against the caller's purpose of use and the")
	fmt.Fprintln(w, "patient's consents, redacted or withheld, and recorded in a ledger.")
	fmt.Fprintln(w, "\nUsage: ds4p COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "  help   show the flags of a command: ds4p help serve")
}

// newFlagSet returns a flag set that prints its usage with a description.
func newFlagSet(name, desc string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "Usage: ds4p %s [flags]\n\n%s\n\nFlags:\n", name, desc)
		fs.PrintDefaults()
	}
	return fs
}
