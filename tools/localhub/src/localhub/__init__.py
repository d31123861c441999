"""localhub."""
