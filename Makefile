# Thin wrapper over CMake/CTest for the usual verbs. `make run` and `make test`
# are the README's two commands; both install their Debian dependencies first.
BUILD ?= build
JOBS ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-unit test-asan fuzz bench format format-check clean kb kb-full kb-check model

all: build

deps:
	@./scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The main job: annotate the example texts with the default pipeline (dictionary +
# the shipped transformer model + linking + post-processing), print Kazu JSON.
# It builds the default knowledge base first (Debian's Bioconductor data, cached by
# input hash), and the full one too when ../shared/data is beside the checkout.
SHARED_DATA ?= ../shared/data
run: kb
	@if [ -d "$(SHARED_DATA)/ontologies" ]; then $(MAKE) --no-print-directory kb-full; fi
	./$(BUILD)/kazu annotate examples/*.txt

# Retrain the shipped NER model from ../shared/data (docs/model-card.md: ~2.5 h of one core here):
# 2 epochs from random weights, then 4 more from them at a lower learning rate.
MODEL_OUT ?= $(BUILD)/model
MODEL_ARCH = --corpora train/corpora.yaml --vocab train/vocab.txt --max-len 128 --batch 32 --dropout 0.1 \
	    --threads 1 --precision fp16
model: build
	@mkdir -p $(MODEL_OUT)
	./$(BUILD)/kazu train $(MODEL_ARCH) --layers 4 --hidden 256 --heads 4 --intermediate 1024 --epochs 2 \
	    --lr 1e-3 --warmup 0.06 --seed 42 --checkpoint $(MODEL_OUT)/ckpt1 --checkpoint-every 200 --resume \
	    -o $(MODEL_OUT)/stage1.kzm
	./$(BUILD)/kazu train $(MODEL_ARCH) --init $(MODEL_OUT)/stage1.kzm --epochs 4 --lr 5e-4 --warmup 0.02 \
	    --seed 43 --checkpoint $(MODEL_OUT)/ckpt2 --checkpoint-every 200 --resume -o $(MODEL_OUT)/model.kzm
	./$(BUILD)/kazu eval ner --model $(MODEL_OUT)/model.kzm --corpora train/corpora.yaml --split devel --threshold 0.4

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKZ_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -E '^data\.'

# Coverage-guided fuzzing (clang + libFuzzer), 20 s per target.
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKZ_FUZZ=ON -DKZ_DATA_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	cd build-fuzz && ctest --output-on-failure -L fuzz

# The embedded default knowledge base (GO, human genes, NCBI taxonomy from Debian's
# Bioconductor data packages, fetched without R) and the full one over ../shared/data.
KB_SRC ?= $(BUILD)/kb-src
KB_OUT ?= $(BUILD)/kb
kb: build
	@./scripts/fetch-default-kb.sh $(KB_SRC)
	@mkdir -p $(KB_OUT)
	KZ_KB_SOURCES=$(abspath $(KB_SRC)) ./$(BUILD)/kazu kb build kb/default.yaml -o $(KB_OUT)/default.kzkb

# Build the default KB and check that known names link to the right ids.
kb-check: kb
	./$(BUILD)/kazu kb verify $(KB_OUT)/default.kzkb
	./$(BUILD)/kazu kb lookup $(KB_OUT)/default.kzkb TP53 --class gene | grep -q 'NCBIGene:7157'
	./$(BUILD)/kazu kb lookup $(KB_OUT)/default.kzkb 'apoptotic process' --class biological_process | grep -q 'GO:0006915'
	./$(BUILD)/kazu kb lookup $(KB_OUT)/default.kzkb 'Homo sapiens' --class species | grep -q 'NCBITaxon:9606'
	@echo "kb-check: default KB ok"

kb-full: build
	@mkdir -p $(KB_OUT)
	KZ_KB_SOURCES=$(abspath $(KB_SRC)) ./$(BUILD)/kazu kb build kb/full.yaml -o $(KB_OUT)/full.kzkb

bench: build
	@ls $(BUILD)/bench_* 2>/dev/null || true

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
