# Aura — the two commands:
#   make run    bring up Aura with demo data on http://localhost:8080
#   make test   run every check (what CI runs)
# Both install what is missing first (Rust targets and tools, npm packages, PostgreSQL, Chromium).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

help:
	@echo "make run    start Aura with demo data on http://localhost:8080"
	@echo "make test   run every check"
	@echo "make openapi  regenerate openapi.yaml from the code"
	@echo "make test-compose  build the Docker image and run docker-compose.yml for real (self-hosting)"

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

# Not part of `make test`: builds the image and runs the compose stack (Docker engine needed).
test-compose:
	@bash scripts/test-compose.sh

openapi:
	@bash -c 'source scripts/lib.sh && cargo run -q -p aura-api -- openapi > openapi.yaml' && echo "openapi.yaml regenerated"

.PHONY: help run test test-compose openapi
