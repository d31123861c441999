"""Talking to the Hub through huggingface_hub / datasets: the pinned revision, file access, error mapping.

Imported only in the process that runs a job (it pulls in the Hub libraries, which must see the
environment set by `worker.environment` first).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import datasets.data_files
import datasets.exceptions
import httpx2  # the HTTP client of huggingface_hub: its transport errors mean the Hub was not reached
import huggingface_hub
from huggingface_hub import HfFileSystem
from huggingface_hub.errors import (
    DisabledRepoError,
    GatedRepoError,
    HfHubHTTPError,
    HFValidationError,
    RepositoryNotFoundError,
)
from huggingface_hub.errors import RevisionNotFoundError as HubRevisionNotFoundError

from libcommon.config import CommonConfig
from libcommon.errors import DatasetsServerError
from worker.errors import (
    DatasetNotFoundError,
    DatasetWithScriptNotSupportedError,
    EmptyDatasetError,
    GatedDatasetError,
    HubUnavailableError,
    RevisionNotFoundError,
    UnexpectedError,
)

#: fsspec block size for data files: small, so that reading a footer or the first rows of a big file does not
#: download megabytes (the default is 5 MiB).
DATA_FILE_BLOCK_SIZE: Final = 256 * 1024
_SCRIPT_MESSAGE: Final = "Dataset scripts are no longer supported"


def token_of(common: CommonConfig) -> str | bool:
    """The token to pass to every library call: the app token, or False so that no implicit token is sent."""
    return common.hf_token or False


def get_dataset_revision(dataset: str, common: CommonConfig) -> str:
    """The commit sha of the dataset's main branch (every later call of the job reads this revision).

    Raises DatasetNotFoundError (missing or private), GatedDatasetError, HubUnavailableError (5xx, 429,
    network), UnexpectedError.
    """
    api = huggingface_hub.HfApi(endpoint=common.hf_endpoint, token=token_of(common))
    try:
        info = api.dataset_info(dataset, token=token_of(common))
    except Exception as err:
        raise classify_hub_error(err, default=UnexpectedError) from err
    if not info.sha:
        raise HubUnavailableError("The Hub did not return the revision of the dataset.")
    return info.sha


def hub_filesystem(common: CommonConfig) -> HfFileSystem:
    """An fsspec filesystem on the Hub, authenticated with the app token (if any)."""
    return HfFileSystem(endpoint=common.hf_endpoint, token=token_of(common))


def hf_path_in_dataset(url: str, dataset: str) -> str | None:
    """The HfFileSystem path of an `hf://datasets/<dataset>@rev/...` URL, or None for any other URL.

    Data may name files by URL; only files of the job's own dataset are ever read, so that a crafted
    value cannot make the server read (and publish) local files or another repository with its token.
    """
    prefix = "hf://"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :]
    own = f"datasets/{dataset}"
    if not (path.startswith(own + "@") or path.startswith(own + "/")):
        return None
    if "/../" in path or path.endswith("/..") or "\\" in path:
        return None
    return path


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        # datasets re-raises some errors `from None`: the original is still in __context__.
        current = current.__cause__ or current.__context__


def is_transient(err: BaseException) -> bool:
    """True if the error (or one in its chain) is a 5xx/429 answer or a network failure of the Hub."""
    for exc in _chain(err):
        if isinstance(exc, HfHubHTTPError):
            status = exc.response.status_code if exc.response is not None else None
            if status is not None and (status >= 500 or status == 429):
                return True
        if isinstance(exc, httpx2.TransportError | ConnectionError | TimeoutError):
            return True
    return False


def classify_hub_error(err: BaseException, default: type[DatasetsServerError]) -> DatasetsServerError:
    """Map an exception raised by huggingface_hub / datasets to an error with a code (with `err` as cause).

    In this order: loading script (501), gated without access (403), revision not found (404, retried:
    the branch moved during the job), missing, private or disabled dataset (404), Hub 5xx / 429 /
    network failure (502, retried), no data files (400); `default(cause=err)` when nothing matches.
    The whole exception chain is looked at, since `datasets` wraps the Hub's errors.
    """
    if isinstance(err, DatasetsServerError):
        return err
    chain = list(_chain(err))
    if any(isinstance(exc, RuntimeError) and _SCRIPT_MESSAGE in str(exc) for exc in chain):
        return DatasetWithScriptNotSupportedError(cause=err)
    if any(isinstance(exc, GatedRepoError) for exc in chain) or any(
        isinstance(exc, datasets.exceptions.DatasetNotFoundError) and "gated" in str(exc) for exc in chain
    ):
        return GatedDatasetError(cause=err)
    if any(isinstance(exc, HubRevisionNotFoundError) for exc in chain):
        return RevisionNotFoundError(cause=err)
    if any(
        isinstance(
            exc,
            RepositoryNotFoundError
            | DisabledRepoError
            | HFValidationError  # not a valid repo id: it cannot exist
            | datasets.exceptions.DatasetNotFoundError,
        )
        for exc in chain
    ):
        return DatasetNotFoundError(cause=err)
    if is_transient(err):
        return HubUnavailableError(cause=err)
    if any(
        isinstance(exc, datasets.data_files.EmptyDatasetError | datasets.exceptions.DataFilesNotFoundError)
        for exc in chain
    ):
        return EmptyDatasetError(cause=err)
    return default(cause=err)
