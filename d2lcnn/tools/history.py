"""What a training run did and reached, written so that nothing is ever half-written or lost.

- :class:`History` — per-epoch loss and accuracies, speed, and what ran: network, form, device,
  batch size, learning rate, data;
- :func:`save_result` / :func:`load_results` — the chapters' results files, which chapter 16
  compares: a reader's runs go to :func:`d2lcnn.config.results_dir` and never overwrite the
  committed reference runs (:func:`d2lcnn.config.reference_results_dir`), and a quick-mode run
  never overwrites a full one (the file name says which it is);
- :func:`write_atomically` — the one way files are written here: a unique temporary file in the
  target folder, flushed, then renamed over the target; readers see the old file or the new one.
"""

from __future__ import annotations

import errno
import json
import numbers
import os
import resource
import tempfile
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from .. import config
from .tables import format_table

__all__ = ["History", "ResultsError", "beside_the_book", "check_results_folder", "load_results",
           "result_path", "save_result", "write_atomically"]

#: Free bytes a results folder needs (a history is a few kilobytes).
RESULTS_SPARE_BYTES = 1 << 20


class ResultsError(ValueError):
    """A results folder or file that cannot be used; the message names it and the fix."""


def write_atomically(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)``, flush the file to disk, then rename it to ``path``.

    The temporary file is made in ``path``'s folder with a name unique to this call (so threads and
    processes writing the same file never share one), and gets the permissions of a normal new
    file (0o666 minus the umask). On any error it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass
class History:
    """What a training run did and reached, one entry per epoch in the lists.

    ``train_loss`` and ``train_acc`` are means over the epoch's training batches (as d2l reports
    them); ``test_acc`` is measured after the epoch; ``examples_per_sec`` counts training steps
    only (data, forward, backward, update), not evaluation. ``form`` is "book", "native" or ""
    (a network trained outside the two forms), ``form_reason`` why that form ran. ``processor``:
    for a run on the CPU, the CPU and the instruction set its speed was measured with
    (:func:`d2lcnn.machine.cpu_isa.describe_cpu`; "" on a GPU and in runs saved before it was kept).
    """

    network: str
    device: str
    num_epochs: int
    batch_size: int
    lr: str
    quick: bool
    num_train: int
    num_test: int
    input_shape: tuple[int, ...]
    form: str = ""
    form_reason: str = ""
    momentum: float = 0.0
    weight_decay: float = 0.0
    seed: int | None = None
    processor: str = ""
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    examples_per_sec: list[float] = field(default_factory=list)
    train_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def epochs_done(self) -> int:
        return len(self.train_loss)

    @property
    def examples_seen(self) -> int:
        return self.epochs_done * self.num_train

    @property
    def overall_examples_per_sec(self) -> float:
        return self.examples_seen / self.train_seconds if self.train_seconds else 0.0

    def title(self) -> str:
        """Network, form and device, e.g. "AlexNet, native form, on cpu(0)"."""
        form = f", {self.form} form" if self.form else ""
        return f"{self.network}{form}, on {self.device}"

    def describe_run(self) -> str:
        """What runs: network, form, device, data, optimiser, in one line (why that form ran is
        the form's own report, printed with it)."""
        side = "×".join(map(str, self.input_shape))
        optimiser = f"SGD, lr {self.lr}"
        if self.momentum:
            optimiser += f", momentum {self.momentum:g}"
        if self.weight_decay:
            optimiser += f", weight decay {self.weight_decay:g}"
        data = ("quick mode: a subset of " if self.quick else "") + (
            f"{self.num_train:,} training and {self.num_test:,} test images of {side}")
        return (f"{self.title()}: {self.num_epochs} epoch(s) on {data}; batch {self.batch_size}, "
                f"{optimiser}")

    def summary(self) -> str:
        """The closing report: form, device, epochs, examples seen, final loss/accuracies, speed."""
        if not self.epochs_done:
            return f"{self.title()}: no epoch finished"
        quick = " (quick mode)" if self.quick else ""
        return (
            f"{self.title()}{quick}: {self.epochs_done} epoch(s), {self.examples_seen:,} examples "
            f"seen (batch {self.batch_size}, input {'×'.join(map(str, self.input_shape))})\n"
            f"loss {self.train_loss[-1]:.3f}, train acc {self.train_acc[-1]:.3f}, "
            f"test acc {self.test_acc[-1]:.3f} ({self.num_test:,} test examples)\n"
            f"{self.overall_examples_per_sec:,.0f} examples/s on {self.device}"
            f"{f' ({self.processor})' if self.processor else ''} (training steps), "
            f"{self.total_seconds:.1f} s in all"
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["examples_seen"] = self.examples_seen
        d["overall_examples_per_sec"] = self.overall_examples_per_sec
        return d

    @classmethod
    def from_dict(cls, d: dict) -> History:
        """The inverse of :meth:`to_dict`; raises ValueError naming what is missing or unknown."""
        if not isinstance(d, dict):
            raise ValueError(f"a training history is a JSON object, not {type(d).__name__}")
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls)
                    if f.default is MISSING and f.default_factory is MISSING}
        missing = sorted(required - set(d))
        if missing:
            raise ValueError(f"the history lacks {', '.join(missing)}")
        values = {k: v for k, v in d.items() if k in names}
        problem = _field_problem(values)
        if problem:
            raise ValueError(f"the history's {problem}")
        values["input_shape"] = tuple(values["input_shape"])
        values["lr"] = str(values["lr"])
        return cls(**values)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the history as JSON, atomically."""
        text = json.dumps(self.to_dict(), indent=1)
        return write_atomically(path, lambda tmp: Path(tmp).write_text(text))

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        path = Path(path)
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except PermissionError as err:
            raise PermissionError(f"{path}: no permission to read it ({err.strerror}); fix its "
                                  "permissions or run as its owner") from err
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"{path} is not a training history written by History.save ({err}); "
                             "delete it or train again to rewrite it") from err
        except OSError as err:
            raise ValueError(f"{path} cannot be read ({err.strerror or err}): check the disk, or "
                             "delete it and train again to rewrite it") from err


_TEXT_FIELDS = ("network", "device", "form", "form_reason", "processor")
_COUNT_FIELDS = ("num_epochs", "batch_size", "num_train", "num_test")
_NUMBER_FIELDS = ("momentum", "weight_decay", "train_seconds", "total_seconds")
_EPOCH_FIELDS = ("train_loss", "train_acc", "test_acc", "examples_per_sec")


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_count(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 0


def _field_problem(values: dict) -> str | None:
    """The first field of a history's values that has the wrong type ("train_loss[2] is 'abc',
    not a number"), or None."""
    for name in _TEXT_FIELDS:
        if name in values and not isinstance(values[name], str):
            return f"{name} is {values[name]!r}, not text"
    for name in _COUNT_FIELDS:
        if not _is_count(values[name]):
            return f"{name} is {values[name]!r}, not a whole number ≥ 0"
    for name in _NUMBER_FIELDS:
        if name in values and not _is_number(values[name]):
            return f"{name} is {values[name]!r}, not a number"
    if not isinstance(values["quick"], bool):
        return f"quick is {values['quick']!r}, not true or false"
    if not isinstance(values["lr"], str) and not _is_number(values["lr"]):
        return f"lr is {values['lr']!r}, not a number or a schedule's description"
    seed = values.get("seed")
    if seed is not None and not _is_count(seed):
        return f"seed is {seed!r}, not a whole number ≥ 0 or null"
    shape = values["input_shape"]
    if not isinstance(shape, list | tuple) or not all(_is_count(n) and n for n in shape):
        return f"input_shape is {shape!r}, not a list of sizes"
    lengths = {}
    for name in _EPOCH_FIELDS:
        column = values.get(name, [])
        if not isinstance(column, list | tuple):
            return f"{name} is {column!r}, not a list (one number per epoch)"
        for i, x in enumerate(column):
            if not _is_number(x):
                return f"{name}[{i}] is {x!r}, not a number"
        lengths[name] = len(column)
    if len(set(lengths.values())) > 1:
        counts = ", ".join(f"{n} {lengths[n]}" for n in _EPOCH_FIELDS)
        return f"per-epoch lists differ in length ({counts}), one entry per epoch each"
    return None


def result_path(key: str, form: str = "", quick: bool = False, folder: Path | None = None) -> Path:
    """``<folder>/<key>[-<form>][-quick].json``; folder default :func:`config.results_dir`."""
    name = key + (f"-{form}" if form else "") + ("-quick" if quick else "")
    return (config.results_dir() if folder is None else Path(folder)) / f"{name}.json"


def _named_folder(folder: str | os.PathLike | None) -> tuple[Path, str]:
    """The results folder, and how the user named it (for messages)."""
    if folder is not None:
        return Path(folder), f"the results folder {folder}"
    named = config.results_dir()
    if config.results_dir_is_set():
        return named, f"the results folder {named} ({config.RESULTS_DIR_ENV})"
    return named, f"the results folder {named}"


def check_results_folder(folder: str | os.PathLike | None = None) -> Path:
    """Check, creating nothing, that results can be saved in ``folder`` (default
    :func:`config.results_dir`): it is a folder or can be made one, writable, with space (and a
    file-size limit, if any) for a history. Raises :class:`ResultsError` naming the folder and
    the fix; :class:`~d2lcnn.tools.run.TrainingRun` calls it before the first epoch."""
    path, named = _named_folder(folder)
    fix = (f"set {config.RESULTS_DIR_ENV} to a folder you can write to (or unset it), before "
           "the run's results are lost")
    existing = next((p for p in (path, *path.absolute().parents) if os.path.lexists(p)), None)
    if existing is None:
        return path
    if not existing.is_dir():
        where = "is" if existing == path else f"is under {existing}, which is"
        kind = "a file" if existing.is_file() else "a broken link or a special file"
        raise ResultsError(f"{named} {where} {kind}, not a folder: {fix}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ResultsError(f"{named} cannot be written ({existing} is read-only for you, or on a "
                           f"read-only file system): {fix}")
    free = free_bytes(existing)
    if free is not None and free < RESULTS_SPARE_BYTES:
        raise ResultsError(f"{named} is on a full disk ({free:,} bytes free): free some space, "
                           f"or {fix}")
    limit = file_size_limit()
    if limit is not None and limit < RESULTS_SPARE_BYTES:
        raise ResultsError(f"{named} cannot hold a results file: a file-size limit (ulimit -f) of "
                           f"{limit:,} bytes is set: raise it (ulimit -f unlimited), or {fix}")
    return path


def free_bytes(folder: str | os.PathLike) -> int | None:
    """Bytes this user may still write on ``folder``'s file system (None: not reported)."""
    try:
        info = os.statvfs(folder)
    except (OSError, AttributeError):
        return None
    return info.f_bavail * info.f_frsize


def file_size_limit() -> int | None:
    """The largest file this process may write, in bytes (``ulimit -f``), or None: no limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else soft


def save_result(history: History, key: str, folder: str | os.PathLike | None = None) -> Path:
    """Save a run's history where chapter 16 finds it (see the module docstring); return the path.

    Refuses to write into the committed reference folder from a quick-mode run, and a folder
    where nothing can be saved (:func:`check_results_folder`); a write that fails (disk full, a
    file-size limit) raises :class:`ResultsError` naming the file, and leaves no part of it.
    """
    folder = check_results_folder(folder)
    if history.quick and folder.resolve() == config.reference_results_dir().resolve():
        raise ValueError(f"{folder} holds the reference results of full runs; a quick-mode run is "
                         "not one: save it elsewhere (D2LCNN_RESULTS_DIR)")
    path = result_path(key, history.form, history.quick, folder)
    try:
        return history.save(path)
    except OSError as err:
        reason = {errno.ENOSPC: "the disk is full", errno.EFBIG: "a file-size limit (ulimit -f)",
                  errno.EROFS: "a read-only file system",
                  errno.EACCES: "no permission"}.get(err.errno, err.strerror or str(err))
        raise ResultsError(f"{path} could not be saved ({reason}); nothing half-written was "
                           f"left: free some space or set {config.RESULTS_DIR_ENV} to another "
                           "folder, then save it again (the history is still in memory)"
                           ) from err


def load_results(folder: str | os.PathLike) -> dict[tuple[str, str, bool], History]:
    """Every history in ``folder``, by (key, form, quick), read from the file names
    :func:`save_result` writes. A missing folder gives {}."""
    folder = Path(folder)
    found = {}
    try:
        paths = sorted(folder.glob("*.json")) if folder.is_dir() else []
    except PermissionError as err:
        raise ResultsError(f"the results folder {folder} cannot be read ({err.strerror}): make "
                           "it readable, or run as its owner") from err
    for path in paths:
        if not path.is_file():
            raise ResultsError(f"{path} is a folder, not a results file: results files are "
                               "<network>[-<form>][-quick].json; rename or remove it")
        stem = path.stem
        quick = stem.endswith("-quick")
        stem = stem.removesuffix("-quick")
        key, _, form = stem.partition("-")
        history = History.load(path)
        if not history.epochs_done:
            raise ResultsError(f"{path} holds no finished epoch (its train_loss, train_acc and "
                               "test_acc are empty): delete it, or train its chapter again to "
                               "rewrite it")
        found[(key, form, quick)] = history
    return found


def beside_the_book(runs: History | list[History], book) -> str:
    """One run's (or several runs') epochs, final training loss, training and test accuracy
    and examples/s beside the book's (``book``: a :class:`~d2lcnn.tools.networks.BookResult`),
    one column per run named by its form, with what each run was under the table."""
    runs = [runs] if isinstance(runs, History) else list(runs)
    if not runs:
        raise ValueError("beside_the_book needs at least one run")
    rows = [["epochs", "10", *(f"{h.epochs_done}" for h in runs)],
            ["train loss", f"{book.train_loss:.3f}", *(f"{h.train_loss[-1]:.3f}" for h in runs)],
            ["train acc", f"{book.train_acc:.3f}", *(f"{h.train_acc[-1]:.3f}" for h in runs)],
            ["test acc", f"{book.test_acc:.3f}", *(f"{h.test_acc[-1]:.3f}" for h in runs)],
            ["examples/s", f"{book.examples_per_sec:,.0f}",
             *(f"{h.overall_examples_per_sec:,.0f}" for h in runs)]]
    names = [f"{h.form} form" if h.form else "here" for h in runs]
    footer = [f"book: its {book.notebook}, 10 epochs × 60,000 examples on a {book.device}"]
    footer += [f"{name}: {h.epochs_done} epoch(s) × {h.num_train:,} examples of "
               f"{'×'.join(map(str, h.input_shape))}, on {h.device}"
               + (" (quick mode)" if h.quick else "") for name, h in zip(names, runs, strict=True)]
    return format_table(["", "book", *names], rows, footer=footer)
