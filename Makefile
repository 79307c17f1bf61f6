# Two commands matter: `make sandbox` (a working local deployment) and `make test`.
export CGO_ENABLED := 0
export GOFLAGS := -tags=goolm -buildvcs=false
# go.mod names the toolchain (with its security fixes); fetch it where the local Go is older.
export GOTOOLCHAIN := auto
GO ?= go

.PHONY: build sandbox test test-short bench vet fmt registration.yaml clean

build:
	$(GO) build -o contactcenter ./cmd/contactcenter

# Starts two federating homeservers, the service and a demo tenant; Ctrl-C stops all.
sandbox:
	$(GO) run ./cmd/sandbox

# Every test: unit tests, then the integration tests against the real test bed
# (Dendrite, PostgreSQL, matrix-js-sdk), installing what they need on first use.
test: vet
	$(GO) run ./cmd/testdeps
	$(GO) test -count=1 -p 2 -timeout 20m ./...

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
