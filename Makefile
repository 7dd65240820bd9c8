.PHONY: install demo test lint format bench

install:  ## torch first: 2.13.0 is a local CPU wheel here; an open range would fetch a CUDA build
	pip install torch==2.13.0
	pip install -e ".[dev]"

demo: install
	nlpkit demo

test:
	python -m pytest

lint:
	ruff check nlpkit tests bench data
	ruff format --check nlpkit tests bench data

format:
	ruff format nlpkit tests bench data
	ruff check --fix nlpkit tests bench data

bench:  ## about 9 hours on 2 cores (see bench/run_all.sh); keep the machine otherwise idle
	bash bench/run_all.sh
