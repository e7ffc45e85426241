# The two commands of the README:
#   make run   installs dependencies, builds rmq-connect and runs the main job (the demo)
#   make test  installs dependencies, builds and runs the whole test suite
JOBS ?= $(shell nproc)
# Measured: a clean `make runtime` (no ccache) on 2 cores, see docs/operations.md#packages.
FIRST_BUILD_MIN = 12

.PHONY: all setup build runtime run package test test-release test-dev test-tsan bench format tidy clean

all: build

setup:
	bash scripts/setup.sh

build: setup
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# Only what the demo and the package need: the release rmq-connect and the connector plugins
# (RMQC_CONNECTOR_<NAME>=MODULE), not the tests and benchmarks `build` makes.
runtime: setup
	cmake --preset release >/dev/null
	@if [ -x build/release/src/app/rmq-connect ]; then \
	  echo "building rmq-connect (release preset; only what changed)..."; \
	else \
	  echo "building rmq-connect (release preset; the first time takes up to about $(FIRST_BUILD_MIN) minutes on 2 cores, later runs only rebuild what changed)..."; \
	fi
	cmake --build --preset release --target rmq-connect-runtime -j $(JOBS)

# A standalone worker with the embedded broker and a demo pipeline (scripts/demo.sh).
run: runtime
	bash scripts/demo.sh

# The Debian package (cmake/packaging.cmake): build/release/package/rmq-connect_<version>_<arch>.deb
package: runtime
	cpack --config build/release/CPackConfig.cmake -B build/release/package
	@ls -l build/release/package/*.deb

# The whole suite, once, under AddressSanitizer + UndefinedBehaviorSanitizer with warnings as
# errors (preset "check": one build instead of an optimised and a sanitizer build, which kept CI
# under 30 minutes on 2 cores). Benchmarks are built too, so they keep compiling.
test: setup
	cmake --preset check >/dev/null
	cmake --build --preset check -j $(JOBS)
	ctest --preset check -j $(JOBS)

# The optimised build with warnings as errors and its tests.
test-release: setup
	cmake --preset ci >/dev/null
	cmake --build --preset ci -j $(JOBS)
	ctest --preset ci -j $(JOBS)

# Debug + ASan/UBSan: run before stopping when concurrency or memory handling changed.
test-dev: setup
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)
	ctest --preset dev -j $(JOBS) $(CTEST_ARGS)

# ThreadSanitizer: the runtime, cluster and client tests (the code with the most threads).
test-tsan: setup
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)
	ctest --preset tsan -j $(JOBS)

bench: build
	for b in build/release/bench/rmqc_bench_*; do $$b; done

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

tidy:
	cmake --preset dev >/dev/null
	git ls-files 'src/*.cc' | xargs clang-tidy -p build/dev --quiet

clean:
	rm -rf build
