"""Environment of the Hub libraries, set before they are imported.

`huggingface_hub` and `datasets` read `HF_ENDPOINT` and their switches from the environment at import
time, so the loop sets them in its own environment before the forkserver (which imports the libraries
once for every job) is started. This module must stay light: it never imports those libraries itself.
"""

from __future__ import annotations

import os
from typing import Final

from libcommon.config import CommonConfig

#: Switches of the Hub libraries for a server: no telemetry call, no progress bars, no download counting.
HUB_LIBRARY_SWITCHES: Final = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "HF_UPDATE_DOWNLOAD_COUNTS": "false",
}


def configure_hub_environment(common: CommonConfig) -> None:
    """Point the Hub libraries at COMMON_HF_ENDPOINT (no trailing slash) and set their switches.

    The token is deliberately not exported: runners pass it explicitly to every call, so that it is sent
    only when configured and never picked up from a developer's own login.
    """
    # A trailing slash makes `datasets` build `//datasets/...` URLs (huggingface_hub strips it, datasets not).
    os.environ["HF_ENDPOINT"] = common.hf_endpoint.rstrip("/")
    os.environ.update(HUB_LIBRARY_SWITCHES)


def check_hub_environment(common: CommonConfig) -> None:
    """Raise RuntimeError if the already-imported libraries point at another endpoint than the config's.

    Called in the process that runs a job: the libraries may have been imported (by the forkserver) before
    the environment was set, in which case every request would silently go to the wrong Hub.
    """
    import datasets.config
    import huggingface_hub.constants

    expected = common.hf_endpoint.rstrip("/")
    actual = {
        "huggingface_hub": str(huggingface_hub.constants.ENDPOINT).rstrip("/"),
        "datasets": str(datasets.config.HF_ENDPOINT).rstrip("/"),
    }
    wrong = {library: endpoint for library, endpoint in actual.items() if endpoint != expected}
    if wrong:
        raise RuntimeError(
            f"the Hub libraries were imported with another HF_ENDPOINT ({wrong}) than COMMON_HF_ENDPOINT"
            f" ({expected}): call configure_hub_environment before importing them"
        )
