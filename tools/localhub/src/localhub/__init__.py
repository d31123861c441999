"""localhub: a Hub-compatible server for tests and offline demos, and the sample-dataset generator.

Modules: `server` (create_app), `testing` (running_hub), `samples` (generate_samples and the sample
constants), `faults` (Faults), `accounts` (the localhub.json format), `cli` (the `localhub` command).
"""
