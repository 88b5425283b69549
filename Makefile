# Thin wrapper around CMake. Everything real lives in CMakeLists.txt.
#   make bench   install deps, build (Release), run the default suites on the best device
#   make test    install deps, build with ASan+UBSan, run every test (CTest)
#   make clean
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
BENCH_ARGS ?=
CMAKE_ARGS ?=

# Sanitizer runtime options for the tests: leaks inside the OpenCL drivers are not ours - CTest
# gives every test <build>/lsan.supp (tests/lsan.supp + one rule per module of each installed ICD
# vendor, written by tests/lsan_icd.cmake); any other leak or UB fails the test. LSAN_OPTIONS
# here serves test programs run by hand from $(TEST_BUILD).
export ASAN_OPTIONS  ?= protect_shadow_gap=0:detect_leaks=1:abort_on_error=0
export LSAN_OPTIONS  ?= suppressions=$(abspath $(TEST_BUILD))/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

.PHONY: all deps build bench test clean fuzz

FUZZ_SECONDS ?= 600

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS) >$(BUILD).configure.log 2>&1 || \
	  { cat $(BUILD).configure.log; exit 1; }
	@grep -E "sdmark" $(BUILD).configure.log || true
	@cmake --build $(BUILD) -j$(JOBS)

# bench builds only the sdmark binary (the tests are `make test`'s job). Without an NVIDIA device
# node the CUDA backend could run no row, so it is not compiled (nvcc for five architectures was
# most of the build), and the CPU profile samples less: a row stops after 5 samples and 0.3 s
# (instead of 10 samples and 0.5 s), and each row's sampling stops after
# BENCH_TIMEOUT seconds: only rows whose single run takes seconds (the sd21 self-attention
# memory-cliff rows, CLBlast's large GEMMs on a CPU) reach it. The samples column says how many each
# row took; `make bench BENCH_ARGS="--min-samples 10 --min-time 0.5 --timeout 15"` runs the full profile.
# BENCH_ARGS come last and win.
HAVE_NV_GPU       := $(wildcard /dev/nvidia0)
BENCH_CMAKE       ?= $(if $(HAVE_NV_GPU),,-DSDMARK_WITH_CUDA=OFF)
BENCH_TIMEOUT     ?= $(if $(HAVE_NV_GPU),15,4)
BENCH_MIN_SAMPLES ?= $(if $(HAVE_NV_GPU),10,5)
BENCH_MIN_TIME    ?= $(if $(HAVE_NV_GPU),0.5,0.3)

bench: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(BENCH_CMAKE) $(CMAKE_ARGS) >$(BUILD).configure.log 2>&1 || \
	  { cat $(BUILD).configure.log; exit 1; }
	@grep -E "sdmark" $(BUILD).configure.log || true
	@cmake --build $(BUILD) -j$(JOBS) --target sdmark
	./$(BUILD)/sdmark run --timeout $(BENCH_TIMEOUT) --min-samples $(BENCH_MIN_SAMPLES) --min-time $(BENCH_MIN_TIME) $(BENCH_ARGS)

test: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSDMARK_SANITIZE=ON $(CMAKE_ARGS) \
	  >$(TEST_BUILD).configure.log 2>&1 || { cat $(TEST_BUILD).configure.log; exit 1; }
	@grep -E "sdmark" $(TEST_BUILD).configure.log || true
	@cmake --build $(TEST_BUILD) -j$(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS)

# libFuzzer on the suite parser and the results readers (needs clang; not part of `make test`).
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(BUILD).configure.log $(TEST_BUILD).configure.log
