"""A training run saved after every epoch, and resumed only when everything checks out.

A checkpoint folder holds the last complete epoch:

- ``epoch-NNNN.params`` — the network's parameters (``net.save_parameters``);
- ``epoch-NNNN.trainer.params`` — the optimiser's state (SGD's momentum buffers), as plain arrays
  in MXNet's array format: loading it cannot run code, unlike Gluon's pickled ``save_states``;
- ``checkpoint.json`` — the manifest, written last: the epoch, a SHA-256 checksum of each file,
  what the run was (network architecture, batch size, training examples, seed, optimiser), the
  :class:`~d2lcnn.tools.history.History` so far and the loader's shuffling state;
- ``checkpoint.lock`` — held while a run writes here, so that a second run is refused.

Every file is written atomically (:func:`~d2lcnn.tools.history.write_atomically`), so a run stopped
at any moment loses at most the epoch it was in. Before anything is loaded, the files are checked
against the manifest's checksums; a corrupt, truncated, missing or unreadable file is named in the
error, with what to do. Resuming is refused, saying what differs, when the run asked for is not the
one saved (another network, batch size, data, seed or optimiser, or fewer epochs than are done);
asking for more epochs than were planned is how a finished run is continued.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import mxnet as mx
from mxnet import gluon

from .history import History, write_atomically

__all__ = ["CheckpointError", "Checkpoints", "RunIdentity"]

FORMAT = 2
MANIFEST = "checkpoint.json"
LOCK = "checkpoint.lock"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as it is; the message names the file and the fix."""


@dataclass(frozen=True)
class RunIdentity:
    """What must be the same for a run to continue another: the network's architecture (its
    ``repr``, which lists every layer with its settings), batch size, training examples, seed and
    optimiser settings."""

    network: str
    architecture: str
    batch_size: int
    num_train: int
    seed: int | None
    optimizer: str

    def differences(self, saved: dict) -> list[str]:
        found = []
        for name, now in vars(self).items():
            before = saved.get(name)
            if before == now:
                continue
            if name == "architecture":
                found.append(f"the network's layers differ ({_first_difference(before, now)})")
            else:
                found.append(f"{name.replace('_', ' ')} {before!r} then, {now!r} now")
        return found


def _first_difference(before: str | None, now: str) -> str:
    for old, new in zip((before or "").splitlines(), now.splitlines(), strict=False):
        if old != new:
            return f"saved: {old.strip()!r}; now: {new.strip()!r}"
    return "one has more layers"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fix(folder: Path) -> str:
    return (f"delete {folder} (or pass resume=False, or another checkpoint_dir) to train afresh")


class Checkpoints:
    """The checkpoint folder of one training run (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self._lock = None

    def __repr__(self) -> str:
        return f"Checkpoints({str(self.folder)!r})"

    # --- before the first step ----------------------------------------------------------------

    def check_writable(self) -> None:
        """Create the folder and check that files can be written there; raises
        :class:`CheckpointError` (before anything is trained) when that is not possible."""
        if self.folder.exists() and not self.folder.is_dir():
            raise CheckpointError(f"checkpoint_dir {self.folder} is a file, not a folder: choose "
                                  "a folder (it is created if missing)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = write_atomically(self.folder / ".write-test", lambda tmp: Path(tmp).write_text("ok"))
            probe.unlink()
        except OSError as err:
            raise CheckpointError(f"checkpoints cannot be written to {self.folder} "
                                  f"({err.strerror or err}): choose a folder you can write to, "
                                  "before the first epoch is lost") from err

    def lock(self) -> None:
        """Hold the folder for this run until :meth:`close` (or the end of the process); raises
        :class:`CheckpointError` when another run holds it."""
        import fcntl

        self.check_writable()

        handle = open(self.folder / LOCK, "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            handle.seek(0)
            holder = handle.read().strip() or "another run"
            handle.close()
            if err.errno in (errno.EAGAIN, errno.EACCES):
                raise CheckpointError(
                    f"{self.folder} is in use by {holder}: two runs writing one checkpoint folder "
                    "would overwrite each other; wait for it to finish or choose another "
                    "checkpoint_dir") from err
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()} on {os.uname().nodename}\n")
        handle.flush()
        self._lock = handle

    def close(self) -> None:
        """Release the folder's lock (the end of the run)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # --- reading ------------------------------------------------------------------------------

    def latest(self) -> dict | None:
        """The manifest of the last complete epoch, checked (format, files, checksums), or None
        when the folder holds no checkpoint."""
        path = self.folder / MANIFEST
        if not path.exists():
            return None
        try:
            manifest = json.loads(path.read_text())
        except PermissionError as err:
            raise CheckpointError(f"{path} cannot be read ({err.strerror}): fix its permissions "
                                  "or run as its owner") from err
        except (OSError, ValueError) as err:
            raise CheckpointError(f"{path} is not a complete checkpoint manifest ({err}): "
                                  f"{_fix(self.folder)}") from err
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            raise CheckpointError(f"{path} has checkpoint format {found!r}; this d2lcnn reads "
                                  f"format {FORMAT}: {_fix(self.folder)}")
        for key in ("epoch", "files", "run", "history"):
            if key not in manifest:
                raise CheckpointError(f"{path} lacks {key!r}, so it is not a complete manifest: "
                                      f"{_fix(self.folder)}")
        self._verify(manifest)
        return manifest

    def _verify(self, manifest: dict) -> None:
        for name, digest in manifest["files"].items():
            path = self.folder / name
            if not path.is_file():
                raise CheckpointError(f"{path} is missing, though {MANIFEST} names it: "
                                      f"{_fix(self.folder)}")
            try:
                actual = _sha256(path)
            except PermissionError as err:
                raise CheckpointError(f"{path} cannot be read ({err.strerror}): fix its "
                                      "permissions or run as its owner") from err
            if actual != digest:
                raise CheckpointError(
                    f"{path} is corrupt or truncated: its SHA-256 checksum differs from the one "
                    f"recorded when it was saved; {_fix(self.folder)}")

    def check_identity(self, manifest: dict, identity: RunIdentity, num_epochs: int) -> None:
        """Refuse to continue another run, saying what differs."""
        problems = identity.differences(manifest["run"])
        if problems:
            raise CheckpointError(
                f"the checkpoint in {self.folder} is of another run: " + "; ".join(problems) +
                f". Resume with the same settings, or {_fix(self.folder)}")
        if num_epochs < manifest["epoch"]:
            raise CheckpointError(
                f"the checkpoint in {self.folder} already holds {manifest['epoch']} epochs, more "
                f"than num_epochs={num_epochs}: pass num_epochs ≥ {manifest['epoch']} to continue, "
                f"or {_fix(self.folder)}")

    def restore(self, manifest: dict, net: gluon.Block, trainer: gluon.Trainer,
                devices, train_iter=None) -> History:
        """Load what ``manifest`` names into ``net`` (on ``devices``), ``trainer`` and
        ``train_iter``; return the saved :class:`History`."""
        params = self.folder / manifest["params"]
        try:
            net.load_parameters(str(params), ctx=list(devices))
        except (mx.base.MXNetError, AssertionError, AttributeError, ValueError) as err:
            raise CheckpointError(f"{params} does not fit this network ({_short(err)}): resume "
                                  f"with the network it was written for, or {_fix(self.folder)}"
                                  ) from err
        _load_trainer_state(net, trainer, self.folder / manifest["trainer"], manifest["updates"])
        if "train_iter_state" in manifest and hasattr(train_iter, "load_state_dict"):
            train_iter.load_state_dict(manifest["train_iter_state"])
        return History.from_dict(manifest["history"])

    # --- writing ------------------------------------------------------------------------------

    def save(self, epoch: int, net: gluon.Block, trainer: gluon.Trainer, history: History,
             identity: RunIdentity, train_iter=None) -> Path:
        """Save the state after ``epoch`` complete epochs; returns the manifest's path."""
        stem = f"epoch-{epoch:04d}"
        params, state = f"{stem}.params", f"{stem}.trainer.params"
        write_atomically(self.folder / params, net.save_parameters)
        updates = _save_trainer_state(net, trainer, self.folder / state)
        manifest = {"format": FORMAT, "epoch": epoch, "params": params, "trainer": state,
                    "updates": updates,
                    "files": {name: _sha256(self.folder / name) for name in (params, state)},
                    "run": vars(identity), "history": history.to_dict()}
        if hasattr(train_iter, "state_dict"):
            manifest["train_iter_state"] = train_iter.state_dict()
        text = json.dumps(manifest, indent=1)
        path = write_atomically(self.folder / MANIFEST, lambda tmp: Path(tmp).write_text(text))
        for old in self.folder.glob("epoch-*"):
            if old.name not in (params, state):
                old.unlink(missing_ok=True)
        for leftover in self.folder.glob(".*.tmp"):  # of a run killed while writing
            leftover.unlink(missing_ok=True)
        return path


def _short(err: Exception) -> str:
    lines = [line for line in str(err).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(err).__name__


def _updaters(trainer: gluon.Trainer) -> list:
    if trainer._kvstore is not None and trainer._update_on_kvstore:
        raise CheckpointError("checkpoints need the optimiser's state on this process: create "
                              "the trainer with update_on_kvstore=False (train() does)")
    return trainer._updaters


def _place_names(net: gluon.Block, trainer: gluon.Trainer) -> dict[int, str]:
    """The trainer's parameter index -> the parameter's place in the network ("features.0.weight").
    Gluon's own names ("dense3_weight") count the layers a process has made, so they differ
    between the process that saved and the one that resumes; the places do not."""
    place = {id(param): name for name, param in net._collect_params_with_prefix().items()}
    return {index: place[id(param)] for index, param in enumerate(trainer._params)}


def _save_trainer_state(net: gluon.Block, trainer: gluon.Trainer, path: Path) -> dict:
    """Write the optimiser's per-parameter state as arrays named by their parameter's place;
    return its update counters."""
    if not trainer._kv_initialized:
        trainer._init_kvstore()
    updater, names = _updaters(trainer)[0], _place_names(net, trainer)
    arrays = {}
    for index, state in updater.states.items():
        if state is None:
            continue
        if not isinstance(state, mx.nd.NDArray):
            raise CheckpointError(f"the optimiser keeps a {type(state).__name__} per parameter; "
                                  "checkpoints save SGD's momentum arrays only")
        arrays[names[index]] = state.as_in_context(mx.cpu())
    write_atomically(path, lambda tmp: mx.nd.save(tmp, arrays))
    optimizer = trainer._optimizer
    return {"num_update": int(optimizer.num_update),
            "update_count": {names[k]: int(v) for k, v in
                             optimizer._index_update_count.items()}}


def _load_trainer_state(net: gluon.Block, trainer: gluon.Trainer, path: Path,
                        updates: dict) -> None:
    if not trainer._kv_initialized:
        trainer._init_kvstore()
    index_of = {name: index for index, name in _place_names(net, trainer).items()}
    try:
        arrays = mx.nd.load(str(path))
    except mx.base.MXNetError as err:
        raise CheckpointError(f"{path} cannot be read as saved arrays ({_short(err)})") from err
    if isinstance(arrays, list):  # what MXNet gives back for an empty dictionary
        if arrays:
            raise CheckpointError(f"{path} holds unnamed arrays, not an optimiser's state")
        arrays = {}
    unknown = sorted(set(arrays) - set(index_of))
    if unknown:
        raise CheckpointError(f"{path} holds optimiser state for {', '.join(unknown[:3])}, which "
                              "this network does not have")
    for updater, device in zip(_updaters(trainer), trainer._contexts, strict=True):
        for name, array in arrays.items():  # the same state on every device
            updater.states[index_of[name]] = array.as_in_context(device)
            updater.states_synced[index_of[name]] = True
    optimizer = trainer._optimizer
    optimizer.num_update = updates["num_update"]
    optimizer._index_update_count = {index_of[k]: v for k, v in updates["update_count"].items()}
