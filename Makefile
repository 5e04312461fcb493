# make e2e   the end-to-end suites on a fresh local stack (creates the venv when missing)
# make test  everything CI runs, stage by stage (testkit/ci_stages.py): lint, unit, images, the integration
#            and e2e suites in image mode and in process mode, the rehearsals (alarms, CodeDeploy,
#            releases) once in process mode, the e2e suite against the emulator as a container, every
#            benchmark once in its short mode (bench-smoke), the leftovers check; then a table of each
#            stage's wall time and tests (MODE=process: no Docker; STAGES="lint unit": only those)
# make up / make down   leave a local stack running to work against, then stop it
# make images  build every function image; make push  push them to the running stack's ECR
#   (e2e, test and up run the functions as images when Docker can run here; MODE=process overrides)
# make lock    regenerate every hash-locked requirements file (after a change of pyproject.toml or of
#              a requirements.in; locked versions are kept: `make lock UPGRADE=name` moves one package)

VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv lock lint unit integration e2e suites rehearse e2e-container leftovers test up down status bench \
	bench-smoke clean images push

# constraints.txt is the lock of this environment (every package, pinned and hashed; make lock writes it);
# the project itself goes in editable on top, with nothing more resolved or downloaded.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r constraints.txt
	$(VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@$(VENV)/bin/pip check || { echo "constraints.txt lacks what pyproject.toml asks for: make lock" >&2; exit 1; }
	@touch $(STAMP)

venv: $(STAMP)

# What the Lambda runtime ships (boto3, botocore and their dependencies) is never in a function's lock:
# its image gets them from the runtime folder, as on AWS.
RUNTIME_PACKAGES := boto3 botocore jmespath python-dateutil s3transfer six urllib3
PIP_COMPILE = CUSTOM_COMPILE_COMMAND='make lock' $(VENV)/bin/pip-compile --quiet --generate-hashes --no-strip-extras \
	--no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade-package $(UPGRADE),)

# A lock that lacks what pyproject.toml now asks for still installs pip-tools (the venv then stops at
# pip check). After a merge conflict in a lock, take either side and run make lock.
$(VENV)/bin/pip-compile:
	-$(MAKE) venv
	@test -x $@

lock: $(VENV)/bin/pip-compile
	$(PIP_COMPILE) --allow-unsafe --extra dev --output-file constraints.txt pyproject.toml
	$(PIP_COMPILE) --output-file localstack/emulator-requirements.txt pyproject.toml
	$(PIP_COMPILE) --output-file images/runtime-requirements.txt images/runtime-requirements.in
	for input in functions/*/requirements.in; do \
	  $(PIP_COMPILE) $(foreach p,$(RUNTIME_PACKAGES),--unsafe-package $(p)) \
	    --constraint images/runtime-requirements.txt --output-file "$${input%.in}.txt" "$$input" || exit 1; \
	done

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/mypy

# The unit suite with its line and branch coverage of harness/ and functions/.
unit: venv
	$(PYTHON) -m pytest --cov --cov-report=term tests/unit

integration: venv
	$(PYTHON) -m pytest tests/integration

MODE_FLAG := $(if $(MODE),--mode $(MODE),)

e2e: venv
	$(PYTHON) -m harness.cli e2e $(MODE_FLAG)

images: venv
	$(PYTHON) -m harness.cli images

push: venv
	$(PYTHON) -m harness.cli push $(if $(AWS),--aws,)

# The integration and e2e suites in one mode (MODE=image|process; default: image when Docker can run);
# MODES_DIFFER_ONLY=1: without the cases marked same_in_both_modes (CI's image-mode stage).
suites: venv
	$(PYTHON) -m harness.cli test $(MODE_FLAG) $(if $(MODES_DIFFER_ONLY),--modes-differ-only,)

# The rehearsals (tests/rehearsal) in one mode, as `suites` runs the integration and e2e suites;
# ARGS: pytest's (a file of the suite, --ignore=...), so CI runs the releases' file beside the others.
rehearse: venv
	$(PYTHON) -m harness.cli rehearse $(MODE_FLAG) $(if $(ARGS),-- $(ARGS),)

# The e2e suite against the emulator as a container (the functions as processes).
e2e-container: venv
	$(PYTHON) -m pytest -q --emulator container tests/e2e

# Nothing CI started is left running (the harness's own Docker engine).
leftovers: venv
	@left="$$($(PYTHON) -m harness.images.engine --leftovers)"; \
	  if [ -n "$$left" ]; then echo "left running: $$left" >&2; exit 1; fi

# Everything CI runs, stage by stage (testkit/ci_stages.py lists them), then a table of each stage's
# wall time and tests (also in .harness/ci-stages.json). MODE=process: the stages that need no Docker;
# STAGES="lint unit": only those.
test: venv
	$(PYTHON) -m testkit.ci_stages $(if $(filter process,$(MODE)),--no-docker) $(STAGES)

up: venv
	$(PYTHON) -m harness.cli up $(MODE_FLAG)

down: venv
	$(PYTHON) -m harness.cli down

status: venv
	$(PYTHON) -m harness.cli status

# Every benchmark (bench/<name>_bench.py), one after another, each on a recipe line of its own (so the
# log shows which one runs; make stops at the first that fails). Each writes bench/results/<area>.json.
BENCHMARKS := cli harness emulator_cpu feeds orders order_recovery images alarms release codedeploy iam security devloop tuning
define newline


endef

bench: venv
	$(foreach benchmark,$(BENCHMARKS),$(PYTHON) -m bench.$(benchmark)_bench$(newline))

# Each benchmark once in short mode (bench/common.py: small sizes, no results written): proves they run.
# Where no Docker engine can run, the image-mode parts are skipped, each said in one line. PART=images:
# the image-mode parts alone (of the benchmarks that have one: they use the Docker engine), PART=others:
# everything else (CI runs the two in different lanes).
IMAGE_BENCHMARKS := harness images devloop release tuning
SMOKED = $(if $(filter images,$(PART)),$(IMAGE_BENCHMARKS),$(BENCHMARKS))
bench-smoke: venv
	$(foreach benchmark,$(SMOKED),BENCH_SHORT=1 $(if $(PART),BENCH_PART=$(PART) ,)$(PYTHON) -m bench.$(benchmark)_bench$(newline))

clean:
	rm -rf .harness $(VENV)
