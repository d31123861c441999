"""Run `datasets` against the local hub in a fresh interpreter and print a JSON report.

Usage: HF_ENDPOINT=... python datasets_probe.py '<json list of tasks>'
Each task: {"repo": id, "token": str | null, "stream": bool, "decode": bool}.
HF_ENDPOINT must be set before `datasets` / `huggingface_hub` are imported, hence the subprocess.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any

STREAM_ROWS = 3


def summarize(value: Any) -> Any:
    """Make a row value JSON-friendly while keeping what the tests check."""
    from PIL import Image

    if isinstance(value, Image.Image):
        return {"image": list(value.size), "mode": value.mode}
    if isinstance(value, dict):
        if isinstance(value.get("bytes"), bytes):
            import soundfile

            data, rate = soundfile.read(io.BytesIO(value["bytes"]))
            return {"bytes": len(value["bytes"]), "path": value.get("path"), "frames": len(data), "rate": rate}
        return {key: summarize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [summarize(item) for item in value]
    return value


def error(err: BaseException) -> dict[str, str]:
    return {"type": type(err).__name__, "message": str(err)}


def run(task: dict[str, Any]) -> dict[str, Any]:
    import datasets

    repo, token = task["repo"], task["token"]
    kwargs: dict[str, Any] = {"token": token} if token else {"token": False}
    report: dict[str, Any] = {"repo": repo, "token": token}
    try:
        configs = datasets.get_dataset_config_names(repo, **kwargs)
    except Exception as err:
        report["error"] = error(err)
        return report
    report["configs"] = configs
    report["default"] = datasets.get_dataset_default_config_name(repo, **kwargs)
    report["splits"] = {}
    report["info"] = {}
    report["rows"] = {}
    report["num_rows"] = {}
    report["features"] = {}
    for config in configs:
        report["splits"][config] = splits = datasets.get_dataset_split_names(repo, config, **kwargs)
        builder = datasets.load_dataset_builder(repo, config, **kwargs)
        report["info"][config] = {name: split.num_examples for name, split in (builder.info.splits or {}).items()}
        if not task.get("stream", True):
            continue
        for split in splits:
            key = f"{config}/{split}"
            try:
                ds = datasets.load_dataset(repo, config, split=split, streaming=True, **kwargs)
                if not task.get("decode", True):
                    ds = ds.decode(False)
                rows = []
                count = 0
                for row in ds:
                    if count < STREAM_ROWS:
                        rows.append({column: summarize(value) for column, value in row.items()})
                    count += 1
                report["rows"][key] = rows
                report["num_rows"][key] = count
                report["features"][key] = {name: str(feature) for name, feature in (ds.features or {}).items()}
            except Exception as err:
                report["rows"][key] = error(err)
    return report


def main() -> None:
    tasks = json.loads(sys.argv[1])
    reports = [run(task) for task in tasks]
    sys.stdout.write(json.dumps(reports) + "\n")
    sys.stdout.flush()
    # pyarrow read-ahead threads can abort the interpreter at exit after a multi-row-group parquet
    # read (hub-api.md section 7), so the probe leaves without finalisation.
    os._exit(0)


if __name__ == "__main__":
    main()
