# gitward — common tasks. `make test` is what CI runs (.ci/run).

GO       ?= go
BIN      := bin/gitward
PKGS     := ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/gitward/gitward/app.Version=$(VERSION)

.PHONY: all build test test-short soak bench lint fmt vet demo clean

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

lint: vet fmt

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
