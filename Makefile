# Two commands matter: `make sandbox` (a working local deployment) and `make test`.
export CGO_ENABLED := 0
export GOFLAGS := -tags=goolm -buildvcs=false
# go.mod names the toolchain (with its security fixes); fetch it where the local Go is older.
export GOTOOLCHAIN := auto
GO ?= go

.PHONY: build sandbox test test-short bench vet fmt fuzz vulncheck registration.yaml clean

build:
	$(GO) build -o contactcenter ./cmd/contactcenter

# Starts two federating homeservers, the service and a demo tenant; Ctrl-C stops all.
sandbox:
	$(GO) run ./cmd/sandbox

# Every test: unit tests, then the integration tests against the real test bed
# (Dendrite, PostgreSQL, matrix-js-sdk), installing what they need on first use.
test: vet vulncheck
	$(GO) run ./cmd/testdeps
	$(GO) test -count=1 -p 2 -timeout 20m ./...
	$(MAKE) --no-print-directory fuzz

# Every fuzz target for some thousands of inputs beyond its seed corpus (the seeds and
# any failing input kept under testdata/fuzz run in every `go test`). A count, not a
# duration: Go 1.26's fuzz coordinator can report its own time limit as a failure
# ("context deadline exceeded", no failing input; go.dev/issue/75804, fixed in 1.27).
FUZZ_TARGETS := ./bridge:FuzzDecodeTransaction ./bridge:FuzzParseEvent ./bridge:FuzzPrivacyFilter ./bot:FuzzParseCommand ./bot:FuzzParseOffer \
	./bot:FuzzParseTextAnswer ./linkcode:FuzzFind ./contextapi:FuzzDecode ./contextmap:FuzzParseGeoURI \
	./routing:FuzzParseExpr ./routing:FuzzWorkflowYAML ./voice:FuzzParseCallEvent ./outbound:FuzzRuleCategories ./adminapi:FuzzDecodeAdmin \
	./internal/strictjson:FuzzDecode
FUZZ_EXECS ?= 20000
fuzz:
	@listed=$(words $(FUZZ_TARGETS)); found=$$(git grep --untracked -h '^func Fuzz' -- '*_test.go' | wc -l); \
	if [ "$$listed" != "$$found" ]; then echo "Makefile lists $$listed fuzz targets, the code has $$found: update FUZZ_TARGETS"; exit 1; fi
	@for t in $(FUZZ_TARGETS); do \
	  $(GO) test -run '^$$' -fuzz "^$${t##*:}$$" -fuzztime $(FUZZ_EXECS)x $${t%%:*} || exit 1; \
	done

# govulncheck against the Go vulnerability database, read from its module
# (golang.org/x/vulndb, fetched through the Go module proxy like any dependency), so
# it runs where the database's web endpoint cannot be reached.
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION ?= latest
vulncheck:
	@db=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'); \
	test -d "$$db/data/osv" || { echo "vulnerability database not found"; exit 1; }; \
	$(GO) run $(GOVULNCHECK) -db "file://$$db/data/osv" ./...

test-short:
	$(GO) test -count=1 -short ./...

bench:
	$(GO) run ./cmd/bench

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)

# The example registration, derived from config.example.yaml, with placeholders for
# the tokens (a real one comes from -g on your own config).
registration.yaml:
	@tmp=$$(mktemp -d) && cp config.example.yaml $$tmp/config.yaml && \
	$(GO) run ./cmd/contactcenter -g -c $$tmp/config.yaml -r $$tmp/registration.yaml && \
	sed -E 's/^(as_token|hs_token): .*/\1: placeholder-run-contactcenter-g/' $$tmp/registration.yaml > registration.yaml && rm -rf $$tmp

clean:
	rm -f contactcenter
