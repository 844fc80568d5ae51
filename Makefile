# gan_repro: one target per thesis experiment. SCALE=paper (GPU, the thesis's iterations) or smoke.
PYTHON ?= python3
SCALE ?= paper
OUT ?= runs
ARGS ?=
DEVICE ?= cpu
BENCH_ARGS ?= --steps 2 --face-models all

.PHONY: install test lint bench models repro-scogan-mnist2svhn repro-face-aging

install:
	$(PYTHON) -m pip install -e ".[dev]"

test:
	$(PYTHON) -m pytest -q

lint:
	ruff check .
	ruff format --check .

models:
	gan-repro models

bench:
	gan-repro bench --device $(DEVICE) $(BENCH_ARGS)

# SCoGAN thesis Ch.5.2/7: CoGAN + SCoGAN-{FR,SLFR,SLCC,FRCC,PL,SL} on MNIST2SVHN (Tables 5.2, 7.1)
repro-scogan-mnist2svhn:
	$(PYTHON) -m experiments.scogan.mnist2svhn --scale $(SCALE) --out $(OUT) $(ARGS)

# Face-aging thesis Ch.5: DCGAN, CycleGAN (+ collapsed run), CGAN z100/z120, CGAN + proposed loss
# (beta 1, 5), CDCGAN on UTKFace (DATA=the UTKFace folder; smoke falls back to the bundled sample)
DATA ?=
repro-face-aging:
	gan-repro train face_aging/utkface scale=$(SCALE) out=$(OUT) $(if $(DATA),data_dir=$(DATA)) $(ARGS)
