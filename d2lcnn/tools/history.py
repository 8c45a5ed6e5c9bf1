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

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

from .. import config
from .tables import format_table

__all__ = ["History", "beside_the_book", "load_results", "result_path", "save_result",
           "write_atomically"]


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
    (a network trained outside the two forms), ``form_reason`` why that form ran.
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
        """What ran: form and why, data, optimiser; one or two lines."""
        side = "×".join(map(str, self.input_shape))
        optimiser = f"SGD, lr {self.lr}"
        if self.momentum:
            optimiser += f", momentum {self.momentum:g}"
        if self.weight_decay:
            optimiser += f", weight decay {self.weight_decay:g}"
        data = ("quick mode: a subset of " if self.quick else "") + (
            f"{self.num_train:,} training and {self.num_test:,} test images of {side}")
        lines = [f"{self.title()}: {self.num_epochs} epoch(s) on {data}; batch {self.batch_size}, "
                 f"{optimiser}"]
        if self.form_reason:
            lines.append(f"form: {self.form_reason}")
        return "\n".join(lines)

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
            f"{self.overall_examples_per_sec:,.0f} examples/s on {self.device} (training steps), "
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


def result_path(key: str, form: str = "", quick: bool = False, folder: Path | None = None) -> Path:
    """``<folder>/<key>[-<form>][-quick].json``; folder default :func:`config.results_dir`."""
    name = key + (f"-{form}" if form else "") + ("-quick" if quick else "")
    return (config.results_dir() if folder is None else Path(folder)) / f"{name}.json"


def save_result(history: History, key: str, folder: str | os.PathLike | None = None) -> Path:
    """Save a run's history where chapter 16 finds it (see the module docstring); return the path.

    Refuses to write into the committed reference folder from a quick-mode run.
    """
    folder = config.results_dir() if folder is None else Path(folder)
    if history.quick and folder.resolve() == config.reference_results_dir().resolve():
        raise ValueError(f"{folder} holds the reference results of full runs; a quick-mode run is "
                         "not one: save it elsewhere (D2LCNN_RESULTS_DIR)")
    return history.save(result_path(key, history.form, history.quick, folder))


def load_results(folder: str | os.PathLike) -> dict[tuple[str, str, bool], History]:
    """Every history in ``folder``, by (key, form, quick), read from the file names
    :func:`save_result` writes. A missing folder gives {}."""
    folder = Path(folder)
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        stem = path.stem
        quick = stem.endswith("-quick")
        stem = stem.removesuffix("-quick")
        key, _, form = stem.partition("-")
        found[(key, form, quick)] = History.load(path)
    return found


def beside_the_book(history: History, book) -> str:
    """A run's final training loss, training and test accuracy and examples/s beside the book's
    (``book``: a :class:`~d2lcnn.tools.networks.BookResult`), with what each run was."""
    rows = [
        ["train loss", f"{book.train_loss:.3f}", f"{history.train_loss[-1]:.3f}"],
        ["train acc", f"{book.train_acc:.3f}", f"{history.train_acc[-1]:.3f}"],
        ["test acc", f"{book.test_acc:.3f}", f"{history.test_acc[-1]:.3f}"],
        ["examples/s", f"{book.examples_per_sec:,.0f}", f"{history.overall_examples_per_sec:,.0f}"],
    ]
    form = f", {history.form} form" if history.form else ""
    footer = [f"book: its {book.notebook}, 10 epochs × 60,000 examples on a {book.device}",
              f"here: {history.epochs_done} epoch(s) × {history.num_train:,} examples of "
              f"{'×'.join(map(str, history.input_shape))}{form}, on {history.device}"
              + (" (quick mode)" if history.quick else "")]
    return format_table(["", "book", "here"], rows, footer=footer)
