# Helix: the two commands of the README are `make run` and `make test`; the rest are their parts.
JOBS      ?= $(shell nproc)
BUILD     ?= build
ASAN_BUILD ?= build-asan
HOST      ?= 0.0.0.0
PORT      ?= 8000
SERVE_ARGS ?=

.PHONY: all deps build web run test test-unit test-asan bench clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The web UI (React + Vite): built into web/dist, served by `helix serve`.
web: deps
	@if [ -f web/package.json ]; then cd web && npm run build --silent; fi

run: build web
	./$(BUILD)/helix serve --host $(HOST) --port $(PORT) $(SERVE_ARGS)

test-unit: build web
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# Every test again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHELIX_SANITIZE=ON -DHELIX_BUILD_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -LE 'slow|web'

test: test-asan test-unit

bench: build
	./$(BUILD)/helix_microbench

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) web/dist
