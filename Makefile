# Ripple's entry points. Every target installs missing Debian packages first
# (scripts/install_deps.sh), so each works on a fresh Debian 12 machine.
#   make        build Release into build/ (binary: build/ripple)
#   make demo   train GCN on the embedded Cora dataset
#   make test   build and run the whole test suite through ctest
#   make fuzz  build the libFuzzer targets (clang) into build-fuzz/; make test runs them briefly
#   make fuzz-long  fuzz each reader for FUZZ_SECONDS (default 600) from a fresh seed corpus
#   make sanitize  build with ASan+UBSan into build-asan/ and run the unit tests there (not the
#                  multi-epoch training runs: accuracy, resume, mini-batch, csbm, graph and link learning,
#                  and the multi-process distributed training runs, 40-80 s each under ASan; the
#                  strategies' thread-rank tests and the launch and failure tests stay)
#   make bench  build and run the benchmarks, report in bench/results/latest (not part of make test)
#   make reproduce  the long accuracy reproductions (10-fold graph classification; 30-45 min, not in make test)
#   make reproduce-recommend  link prediction on Cora, UltraGCN and one-hour LightGCN on Gowalla (about 50 min)
#   make reproduce-long  ogbl-ddi GraphSAGE and NCN (10 seeds each), LightGCN's paper protocol (about 36 hours)
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
export CCACHE_DIR ?= $(HOME)/.cache/ccache
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
export CCACHE_MAXSIZE ?= 5G

.PHONY: all deps build demo test fuzz fuzz-long sanitize bench reproduce reproduce-recommend reproduce-long clean

all: build

deps:
	@bash scripts/install_deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD_DIR) -j$(JOBS)

demo: build
	./$(BUILD_DIR)/ripple train --config examples/cora_gcn.toml

test: build fuzz
	cd $(BUILD_DIR) && OMP_NUM_THREADS=1 ctest --output-on-failure -j$(JOBS) --timeout 1200
	cd build-fuzz && ctest --output-on-failure -j$(JOBS)

fuzz: build
	@cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DRIPPLE_BUILD_DIR=$(abspath $(BUILD_DIR)) > /dev/null
	@cmake --build build-fuzz -j$(JOBS)

FUZZ_SECONDS ?= 600
fuzz-long: fuzz
	for kind in native csv tu; do \
	  ASAN_OPTIONS=detect_leaks=0 OMP_NUM_THREADS=1 bash fuzz/run_fuzzer.sh build-fuzz/fuzz_$${kind}_reader $$kind \
	    $(abspath $(BUILD_DIR))/ripple build-fuzz/long_$$kind -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRIPPLE_SANITIZE=ON > /dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  OMP_NUM_THREADS=1 ctest --output-on-failure -j$(JOBS) -E 'PublishedAccuracy|MinibatchAccuracy|Resume|python_ops|MinibatchTraining.IsIndependent|CsbmNeedsTheGraph|GraphClassificationLearning|LinkPredictionLearning|RecommendationLearning|LowCommunication|DataParallel.(FullBatch|LinkPrediction|Partitioned)' --timeout 1800

bench: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DRIPPLE_BUILD_BENCH=ON > /dev/null
	@cmake --build $(BUILD_DIR) -j$(JOBS)
	BUILD_DIR=$(BUILD_DIR) bash bench/run.sh

reproduce: build
	bash bench/reproduce_graph_classification.sh

reproduce-recommend: build
	bash bench/reproduce_link_recommend.sh short

reproduce-long: build
	bash bench/reproduce_link_recommend.sh long

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz
