"""The worker: a loop that claims jobs of the processing graph and runs each one in a child process.

Modules: `main` (entry point), `config` (environment), `loop` (claim, store, children, zombies),
`executor` (child processes with time and memory limits), `job_runners` (one module per step),
`hub` / `readers` / `cells` (reading the Hub, the first rows, media to assets), `errors` (codes).
"""
