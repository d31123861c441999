"""Query parameters: presence (422 MissingRequiredParameter) and dataset ids (422 InvalidParameter)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from starlette.datastructures import QueryParams

from api.errors import InvalidParameterError, MissingRequiredParameterError
from libcommon.dataset_names import is_valid_dataset_name
from libcommon.processing_graph import InputType

#: The query parameters that identify a response, per input level of a processing step.
PARAMETERS: Final[dict[InputType, tuple[str, ...]]] = {
    "dataset": ("dataset",),
    "config": ("dataset", "config"),
    "split": ("dataset", "config", "split"),
}


@dataclass(frozen=True)
class Key:
    """The key of a response: a dataset, and a config and a split depending on the level."""

    dataset: str
    config: str | None = None
    split: str | None = None


def missing_message(names: tuple[str, ...]) -> str:
    """The seeds' message: `Parameter 'dataset' is required`, `Parameters 'a', 'b' and 'c' are required`."""
    quoted = [f"'{name}'" for name in names]
    if len(quoted) == 1:
        return f"Parameter {quoted[0]} is required"
    return f"Parameters {', '.join(quoted[:-1])} and {quoted[-1]} are required"


def validate_dataset(dataset: str) -> str:
    """Return `dataset` if it is a valid Hub repo id; raise InvalidParameterError otherwise."""
    if not is_valid_dataset_name(dataset):
        raise InvalidParameterError(
            "Parameter 'dataset' is not a valid dataset id: expected 'name' or 'namespace/name' "
            "(letters, digits, '-', '_', '.'; at most 96 characters each)."
        )
    return dataset


def read_key(query_params: QueryParams, input_type: InputType) -> Key:
    """Read and validate the parameters of a key; all are required (present and not blank)."""
    names = PARAMETERS[input_type]
    values = [query_params.get(name) for name in names]
    if any(value is None or not value.strip() for value in values):
        raise MissingRequiredParameterError(missing_message(names))
    dataset, *rest = [value for value in values if value is not None]
    return Key(validate_dataset(dataset), *rest)
