"""A Hugging Face dataset: a folder saved with `save_to_disk`, a local data file or folder, or `hf:<id>`."""

from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.importers.common import Imported, Options
from harness.importers.rows import from_rows
from harness.sources import FORMATS


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]


def _load(source: str, options: Options) -> Any:
    import datasets

    from harness.sources import _arrow_dir

    datasets.disable_progress_bars()
    if source.startswith("hf:"):
        try:
            return datasets.load_dataset(
                source.removeprefix("hf:"),
                options.subset,
                split=options.split,
                revision=options.revision,
                cache_dir=_arrow_dir(),
            )
        except Exception as err:  # offline, unknown id, unknown split: datasets raises many types
            hint = " (the hub is off: export HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 to download)"
            raise InputError(source, f"cannot be loaded: {_first_line(err)}{hint}") from None
    path = Path(source)
    if not path.exists():
        raise InputError(source, "not found (a dataset folder, a data file, or hf:<dataset id>)")
    try:
        if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
            return datasets.load_from_disk(str(path))
        if path.is_file():
            fmt = FORMATS.get(path.suffix.lower())
            if fmt is None:
                raise InputError(source, f"unsupported file type '{path.suffix}' (use {', '.join(FORMATS)})")
            return datasets.load_dataset(fmt, data_files=str(path), cache_dir=_arrow_dir())
        return datasets.load_dataset(str(path), cache_dir=_arrow_dir())
    except InputError:
        raise
    except Exception as err:
        raise InputError(source, f"cannot be read: {_first_line(err)}") from None


def read_hf(source: str, options: Options) -> Imported:
    """Every split of the dataset (or --split), each case tagged with its split's name."""
    import datasets

    loaded = _load(source, options)
    if isinstance(loaded, datasets.DatasetDict):
        if options.split is not None:
            if options.split not in loaded:
                raise InputError(source, f"no split '{options.split}' (splits: {', '.join(loaded)})")
            tables = {options.split: loaded[options.split]}
        else:
            tables = dict(loaded)
    else:
        tables = {options.split or "": loaded}
    rows = [
        (f"split-{name}" if name else "", row) for name, table in tables.items() for row in table.to_list()
    ]
    return from_rows("hf", source, source, rows, options)
