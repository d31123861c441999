"""libcommon."""
