# gitward — common tasks. `make test` is what CI runs (.ci/run).

GO       ?= go
BIN      := bin/gitward
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/gitward/gitward/app.Version=$(VERSION)

.PHONY: all build test test-short soak bench lint fmt vet staticcheck demo clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/gitward

## test: vet, format check and the whole test suite with the race detector.
test: lint
	$(GO) test -race -count=1 $(PKGS)

test-short:
	$(GO) test -count=1 $(PKGS)

## soak: the full soak through the end-to-end harness (50 pull requests,
## 1,000 events, injected faults); make test runs a short one.
soak:
	GITWARD_SOAK=full $(GO) test -race -count=1 -timeout 60m -run TestSoak -v ./e2e/

## bench: Go benchmarks, side by side with their reference tools.
bench:
	bash scripts/bench.sh

## lint: vet, format check, staticcheck, and every module in the build
## graph under a licence compatible with Apache-2.0 (rules in
## scripts/licencecheck).
lint: vet fmt staticcheck
	$(GO) run ./scripts/licencecheck

# staticcheck runs at a pinned version, built outside gitward's module so
# its dependencies do not move gitward's.
STATICCHECK_VERSION ?= v0.8.2
staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

## demo: show gitward at work on a bundled example, no GitHub App, no cluster.
demo: build
	bash scripts/demo.sh

clean:
	rm -rf bin
