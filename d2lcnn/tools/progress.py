"""A progress line for long epochs: examples done, examples/s, time left, in Jupyter and in a
terminal.

Epochs of a few seconds need none: the line appears only once an epoch has run for
:data:`SHOW_AFTER` seconds (the book's networks at 224×224 on a CPU take 20 minutes and more per
epoch). In Jupyter it is one output updated in place; in a terminal, one line rewritten with a
carriage return; written to a file or a pipe, nothing (a log would fill with partial lines). It
never waits for the device: it counts the examples the loop has handed over.
"""

from __future__ import annotations

import sys
import time

from .plot import in_notebook

__all__ = ["ProgressBar"]

#: Seconds into an epoch after which the progress line appears.
SHOW_AFTER = 3.0
#: Seconds between two updates of the line.
EVERY = 1.0
WIDTH = 24


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class ProgressBar:
    """``start_epoch(epoch, num_examples)`` at the start of each epoch, ``update(done)`` after
    each batch (cheap: a clock read), ``end_epoch()`` before the epoch's report, ``close()`` at the
    end of training."""

    def __init__(self, num_epochs: int, live: bool | None = None, stream=None) -> None:
        self.num_epochs = num_epochs
        self.notebook = in_notebook() if live is None else live
        self.stream = stream or sys.stdout
        self.enabled = self.notebook or (live is None and self.stream.isatty())
        self._handle = None
        self._shown = False
        self._last = 0.0
        self.epoch, self.total, self.started = 0, 0, 0.0

    def start_epoch(self, epoch: int, num_examples: int) -> None:
        self.epoch, self.total = epoch, num_examples
        self.started = self._last = time.perf_counter()

    def text(self, done: int, now: float) -> str:
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        filled = int(WIDTH * done / self.total) if self.total else WIDTH
        left = (self.total - done) / rate if rate else 0.0
        later = (self.num_epochs - self.epoch) * self.total / rate if rate else 0.0
        total_left = f", about {_duration(left + later)} for the run" if later else ""
        return (f"epoch {self.epoch}/{self.num_epochs} [{'#' * filled}{'.' * (WIDTH - filled)}] "
                f"{done:,}/{self.total:,} examples, {rate:,.0f} examples/s, "
                f"{_duration(left)} left in the epoch{total_left}")

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self._last < EVERY or now - self.started < SHOW_AFTER:
            return
        self._last = now
        self._show(self.text(done, now))

    def _show(self, line: str) -> None:
        self._shown = True
        if self.notebook:
            from IPython.display import display

            if self._handle is None:
                self._handle = display(_Text(line), display_id=True)
            else:
                self._handle.update(_Text(line))
        else:
            self.stream.write("\r" + line)
            self.stream.flush()

    def end_epoch(self) -> None:
        """Clear the terminal line, so that the epoch's report starts on a clean line."""
        if self._shown and not self.notebook:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self, summary: str = "") -> None:
        """The last state of the line in Jupyter: ``summary`` (e.g. the run's duration)."""
        if self._handle is not None:
            self._handle.update(_Text(summary or "done"))


class _Text:
    """A line of text shown as such by Jupyter (not as a string's quoted repr)."""

    def __init__(self, line: str) -> None:
        self.line = line

    def __repr__(self) -> str:
        return self.line
