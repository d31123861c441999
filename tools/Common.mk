# Shared make fragment (included by the root Makefile and the per-service Makefiles).
