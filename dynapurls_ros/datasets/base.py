"""The one interface every dataset reader returns, and the helpers readers share.

Arrays in a loaded dataset are read-only: readers cache datasets in-process, so one
caller's in-place edit must not silently change another caller's data. Copy an array
(``np.array(sample.joints)``) before modifying it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import numpy as np

from ..paths import data_root


@dataclass(frozen=True)
class SkeletonSample:
    """One labelled sequence.

    ``joints`` is the main body (the one that moves most when there are several), in the
    dataset's layout, metres, camera/capture coordinates. Frames in which a body was not
    tracked hold NaN (only the multi-person readers produce them);
    ``skeleton.preprocess.clean`` removes them.
    """

    name: str  # file stem (or stem plus clip number), unique in the dataset
    joints: np.ndarray  # (T, V, 3) float32
    label: int  # index into the dataset's class_names
    subject: int | None = None
    view: int | None = None  # camera / setup id where known
    bodies: np.ndarray | None = None  # (M, T, V, 3), M > 1, main body first; else None
    fps: float = 30.0
    trial: int | None = None  # repetition number where a dataset records one


@dataclass
class SkeletonDataset:
    """The samples of one dataset with its class names and the layout of its joints."""

    name: str
    layout: str  # a key of skeleton.layouts.LAYOUTS
    class_names: list[str]
    samples: list[SkeletonSample]
    # (sequence or file, why it could not be read): left out, named in a run's output
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.samples)

    def __iter__(self) -> Iterator[SkeletonSample]:
        return iter(self.samples)

    @property
    def labels(self) -> np.ndarray:
        """Label of every sample, in sample order."""
        return np.array([s.label for s in self.samples], dtype=np.int64)

    def filter(self, keep: Callable[[SkeletonSample], bool]) -> SkeletonDataset:
        """The samples for which ``keep`` is true; labels and class names are unchanged."""
        return SkeletonDataset(
            self.name,
            self.layout,
            list(self.class_names),
            [s for s in self.samples if keep(s)],
            list(self.skipped),
        )


class DataFileError(ValueError):
    """A data file that cannot be read as its format says: names the file and the line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


# What reading one file can raise when the file (not the code) is at fault.
READ_ERRORS = (DataFileError, OSError, ValueError)


class Skips:
    """The files a reader could not read, so that one bad file costs that file only.

    ``with skips.item(name): ...`` reads one item; a read error inside leaves the item out
    with its reason and the reader goes on. Every reader follows the same rule: skip and
    name what is unreadable, and fail (``readable_dataset``) only when nothing was.
    """

    def __init__(self) -> None:
        self.skipped: list[tuple[str, str]] = []
        self._name = ""

    def item(self, name: str) -> Skips:
        self._name = name
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: TracebackType | None
    ) -> bool:
        if error is not None and isinstance(error, READ_ERRORS):
            self.skipped.append((self._name, str(error)))
            return True
        return False


def readable_dataset(
    root: Path,
    name: str,
    layout: str,
    class_names: Sequence[str],
    samples: Sequence[SkeletonSample],
    skipped: Sequence[tuple[str, str]],
) -> SkeletonDataset:
    """The dataset of what was read; a DataFileError naming the reasons when files were
    found but none of them could be read."""
    if not samples and skipped:
        reasons = "; ".join(reason for _, reason in skipped[:3])
        raise DataFileError(root, None, f"no readable sequence ({len(skipped)} skipped): {reasons}")
    return SkeletonDataset(name, layout, list(class_names), list(samples), list(skipped))


def resolve_root(root: Path | str | None, default: str) -> Path:
    """``root`` or ``data_root()/default``; a missing directory is a clear error."""
    path = Path(root).expanduser() if root is not None else data_root() / default
    if not path.is_dir():
        raise FileNotFoundError(f"dataset directory not found: {path}")
    return path


def read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def read_data_lines(path: Path, what: str = "file") -> list[str]:
    """The lines of a text data file up to its last non-blank one.

    Trailing blank lines are dropped (editors and exporters add them) but inner ones are
    kept, so that a reader's line numbers stay those of the file and a blank row is
    reported where it is; a file with no data raises ``DataFileError`` ("empty <what>").
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataFileError(path, 1, f"empty {what}")
    return lines


def parse_rows(
    path: Path, lines: Sequence[str], columns: int, first_line: int = 1, sep: str | None = None
) -> np.ndarray:
    """Parse text rows of exactly ``columns`` numbers each into a float64 array.

    ``lines[0]`` is line ``first_line`` of ``path``; a row with the wrong number of fields
    or a field that is not a number raises DataFileError naming that line. NaN and inf
    are accepted (sensors write them for lost joints).
    """
    try:  # numpy's C parser; it skips blank lines, hence the shape check
        values = np.loadtxt(lines, dtype=np.float64, comments=None, delimiter=sep, ndmin=2)
        if values.shape == (len(lines), columns):
            return values
    except ValueError:
        pass
    # Something is wrong: find the first offending line.
    values = np.empty((len(lines), columns))
    for i, line in enumerate(lines):
        row = line.split(sep)
        if len(row) != columns:
            raise DataFileError(
                path, first_line + i, f"expected {columns} numbers, found {len(row)} fields"
            )
        for j, text in enumerate(row):
            try:
                values[i, j] = float(text)
            except ValueError:
                raise DataFileError(path, first_line + i, f"not a number: {text!r}") from None
    return values


def read_csv(path: Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of every data row of a CSV file with a header line.

    The header must name every column in ``required``; a row with a different number of
    fields than the header raises DataFileError naming its line.
    """
    with open(path, newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        header = next(reader, None)
        if header is None:
            raise DataFileError(path, 1, "empty CSV file (expected a header line)")
        header = [column.strip() for column in header]
        missing = [column for column in required if column not in header]
        if missing:
            raise DataFileError(path, 1, f"header lacks column(s) {', '.join(missing)}")
        rows = []
        for fields in reader:
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                raise DataFileError(
                    path, reader.line_num, f"expected {len(header)} fields, found {len(fields)}"
                )
            rows.append((reader.line_num, dict(zip(header, fields, strict=True))))
    return rows
