# The README's commands. `make test` is what CI runs.
GO ?= go

.PHONY: build test test-short test-console demo bench fuzz load soak oracle

build:
	$(GO) build -o ds4p ./cmd/ds4p

# Unit tests, Rego tests (policy package), short fuzz seeds, and the
# end-to-end suite against the Medplum FHIR server (test/e2e), race detector on.
# The proxy package runs a second time with every Bundle streamed
# (proxy/stream.go) and every searchset walked in parts (proxy/parts.go),
# which by default only Bundles of 256 KiB and more are.
test:
	bash test/medplum/install.sh
	$(GO) test -race -count=1 -timeout 25m ./...
	DS4P_TEST_STREAM_ALL=1 DS4P_TEST_WALK_PARTS=1 $(GO) test -race -count=1 -timeout 15m ./proxy
	# The portable string check, which CPUs without AVX2 run (internal/fjson/special_other.go).
	$(GO) test -race -count=1 -tags purego ./internal/fjson ./labels

# Everything except the end-to-end suite.
test-short:
	$(GO) test -race -short -count=1 ./...

# The web console in headless Chromium against ds4p demo (CI runs it too);
# installs Debian's chromium and playwright-core when missing.
test-console:
	bash test/console/install.sh
	node test/console/console.test.mjs
	node test/console/session_end_qa25b.test.mjs

demo:
	$(GO) run ./cmd/ds4p demo

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# A longer fuzz run of every fuzz target, FUZZTIME (60 s) each; a crashing
# input lands in the package's testdata/fuzz/<FuzzName>/ and stays there as
# a regression case (`go test` replays it).
FUZZTIME ?= 60s
FUZZ_PKGS = ./internal/fjson ./internal/fhirmem ./internal/synth ./labels ./consent ./audit ./policy ./proxy ./proxy/authn
fuzz:
	for pkg in $(FUZZ_PKGS); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    bash test/fuzz.sh "$$t" $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The load test: direct vs pass-through vs ds4p, static and Medplum upstreams
# (~10 min, loopback only, bounded). Writes test/load/results/latest.md.
load:
	bash test/load/run.sh

# The soak: SOAK_RATE mixed requests/s for SOAK_DURATION through ds4p against
# the static upstream, printing errors, p50/p99 and ds4p's memory every 30 s;
# fails on errors or memory growth (test/soak/main.go states the bound).
SOAK_DURATION ?= 10m
SOAK_RATE ?= 200
soak:
	$(GO) run ./test/soak -duration $(SOAK_DURATION) -rate $(SOAK_RATE)

# The leak oracle with more seeds than CI's (test/oracle): ORACLE_SEEDS=N
# runs seeds 1..N (also "A-B" or "A,B,C"), 4-12 s a seed; a leak prints
# the seed and the request that reproduces it.
ORACLE_SEEDS ?= 40
oracle:
	bash test/medplum/install.sh
	DS4P_ORACLE_SEEDS=$(ORACLE_SEEDS) flock /tmp/ds4p-e2e.lock $(GO) test -count=1 -timeout 60m -run 'TestOracle$$' -v ./test/oracle
