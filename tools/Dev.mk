# Defaults of `make dev` and `make demo`: the ONE place where they live.
# Every variable can be overridden from the environment or the command line
# (`API_PORT=8100 ADMIN_PORT=8101 DEV_DATA_DIR=/tmp/ds2 make dev` runs a second instance side by side).
# The legacy names of the original services (HF_ENDPOINT, HF_TOKEN, MONGO_URL, ASSETS_DIRECTORY) are honoured too.

# Where the SQLite store and the assets of this instance live.
DEV_DATA_DIR ?= $(CURDIR)/.data/$(if $(filter demo,$(MAKECMDGOALS)),demo,dev)
# Public API and admin API ports.
API_PORT ?= 8000
ADMIN_PORT ?= 8001
# One uvicorn worker per service is enough on a laptop.
API_NUM_WORKERS ?= 1
ADMIN_NUM_WORKERS ?= 1
API_HOSTNAME ?= localhost
ADMIN_HOSTNAME ?= localhost
# The Hub the workers read datasets from (`make demo` points it at the local hub).
COMMON_HF_ENDPOINT ?= $(or $(HF_ENDPOINT),https://huggingface.co)
# App token for gated/private datasets (empty: public datasets only).
COMMON_HF_TOKEN ?= $(HF_TOKEN)
COMMON_LOG_LEVEL ?= $(or $(LOG_LEVEL),INFO)
# The embedded store: one SQLite file shared by every process (set a mongodb:// URL to use MongoDB).
CACHE_MONGO_URL ?= $(or $(MONGO_URL),sqlite:///$(DEV_DATA_DIR)/datasets-server.db)
QUEUE_MONGO_URL ?= $(or $(MONGO_URL),sqlite:///$(DEV_DATA_DIR)/datasets-server.db)
ASSETS_STORAGE_DIRECTORY ?= $(or $(ASSETS_DIRECTORY),$(DEV_DATA_DIR)/assets)
ASSETS_BASE_URL ?= http://$(API_HOSTNAME):$(API_PORT)/assets
# Poll the queue every second instead of the production 15 s.
WORKER_SLEEP_SECONDS ?= 1
# A laptop's load (a build, a browser) is no reason for the workers to stop claiming jobs.
WORKER_MAX_LOAD_PCT ?= 0
# No browser cache while developing.
API_MAX_AGE_LONG_SECONDS ?= 1
API_MAX_AGE_SHORT_SECONDS ?= 1

# `make demo` only: the local hub, its port, its folder of generated sample repos, and the app token
# the workers use there (must equal localhub.samples.APP_TOKEN; a test checks it).
DEMO_HUB_PORT ?= 47651
DEMO_HUB_ROOT ?= $(DEV_DATA_DIR)/hub
DEMO_HF_TOKEN := hf_app_token_for_datasets_server

export DEV_DATA_DIR API_PORT ADMIN_PORT API_NUM_WORKERS ADMIN_NUM_WORKERS API_HOSTNAME ADMIN_HOSTNAME \
	COMMON_HF_ENDPOINT COMMON_HF_TOKEN COMMON_LOG_LEVEL CACHE_MONGO_URL QUEUE_MONGO_URL \
	ASSETS_STORAGE_DIRECTORY ASSETS_BASE_URL WORKER_SLEEP_SECONDS WORKER_MAX_LOAD_PCT API_MAX_AGE_LONG_SECONDS \
	API_MAX_AGE_SHORT_SECONDS DEMO_HUB_PORT DEMO_HUB_ROOT
