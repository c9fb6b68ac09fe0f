// Command medplumload stores the load test's population
// (test/load/internal/loaddata) in a FHIR server with PUT Type/id, four at
// a time, and checks that the load test's three requests answer 200 there:
// it fills the Medplum upstream of test/load/run.sh. It gives up after
// --timeout.
//
//	go run ./test/load/medplumload --base http://127.0.0.1:8103/fhir/R4
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/test/load/internal/loaddata"
)

const putConcurrency = 4

func main() {
	base := flag.String("base", "", "FHIR base URL, required")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up after this long")
	flag.Parse()
	if *base == "" {
		log.Fatal("--base is required")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	d := loaddata.Dataset()
	start := time.Now()
	if err := putAll(ctx, *base, d.Resources); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "medplumload: stored %d resources in %.1fs\n", len(d.Resources), time.Since(start).Seconds())
	for _, p := range []string{loaddata.ReadPath(d), loaddata.SearchPath, loaddata.EverythingPath} {
		n, err := check(ctx, *base+"/"+p)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "medplumload: GET %s: %d bytes\n", p, n)
	}
}

// putAll stores every resource; the first failures are reported.
func putAll(ctx context.Context, base string, rs []synth.Resource) error {
	client := &http.Client{Timeout: 30 * time.Second}
	errs := make([]error, len(rs))
	sem := make(chan struct{}, putConcurrency)
	var wg sync.WaitGroup
	for i, r := range rs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = put(ctx, client, base+"/"+r.Type+"/"+r.ID, r.JSON)
		}()
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil && len(failed) < 5 {
			failed = append(failed, err)
		}
	}
	return errors.Join(failed...)
}

func put(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: %s: %s", url, resp.Status, msg)
	}
	return nil
}

// check GETs url and requires 200 and, for a Bundle, at least one entry.
func check(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	var head struct {
		ResourceType string            `json:"resourceType"`
		Entry        []json.RawMessage `json:"entry"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return 0, fmt.Errorf("GET %s: %w", url, err)
	}
	if head.ResourceType == "Bundle" && len(head.Entry) == 0 {
		return 0, fmt.Errorf("GET %s: empty Bundle", url)
	}
	return len(body), nil
}
