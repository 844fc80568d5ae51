# gan_repro: one target per declared experiment (`gan-repro list`), all run by one runner:
#   make repro-NAME [SCALE=paper|cpu|smoke] [OUT=runs] [DATA=dir] [ARGS="runs=A,B trainer.steps=200"]
# SCALE=paper is the thesis's scale (GPU); smoke runs the same code for a few iterations on a CPU.
PYTHON ?= python3
SCALE ?= paper
OUT ?= runs
ARGS ?=
DEVICE ?= cpu
BENCH_ARGS ?= --steps 2 --face-models all --translation-models all --eval --profile

EXPERIMENTS := scogan-mnist2svhn scogan-mnist2edge scogan-toy-ring scogan-mnist2svhn-fr \
               cogan-mnist2svhn-sharing face-aging mnist-usps-cyclegan28 mnist-usps-cyclegan128 \
               cyclegan-vs-unit
DATA ?=

.PHONY: install install-gpu test lint bench models list $(addprefix repro-,$(EXPERIMENTS))

install:
	$(PYTHON) -m pip install -e ".[dev]"

install-gpu:  # the same with TensorFlow's CUDA libraries from pip (tensorflow[and-cuda], Linux)
	$(PYTHON) -m pip install -e ".[dev,gpu]"

test:
	$(PYTHON) -m pytest -q

lint:
	ruff check .
	ruff format --check .

models:
	gan-repro models

bench:
	gan-repro bench --device $(DEVICE) $(BENCH_ARGS)

list:
	gan-repro list

# repro-face-aging, repro-scogan-mnist2svhn, ...: NAME is the declaration's name (gan-repro list)
$(addprefix repro-,$(EXPERIMENTS)): repro-%:
	gan-repro train $* scale=$(SCALE) out=$(OUT) $(if $(DATA),data_dir=$(DATA)) $(ARGS)
