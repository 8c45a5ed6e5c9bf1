"""A training run saved after every epoch, and resumed only when everything checks out.

A checkpoint folder holds the last complete epoch:

- ``epoch-NNNN.params`` — the network's parameters (``net.save_parameters``);
- ``epoch-NNNN.trainer.params`` — the optimiser's state (SGD's momentum buffers), as plain arrays
  in MXNet's array format: loading it cannot run code, unlike Gluon's pickled ``save_states``;
- ``checkpoint.json`` — the manifest, written last: the epoch, a SHA-256 checksum of each file,
  what the run was (network architecture, batch size, seed, optimiser, and the data: data set,
  split, subset, number of examples and a SHA-256 of their content), the
  :class:`~d2lcnn.tools.history.History` so far and the loader's shuffling state;
- ``checkpoint.lock`` — held while a run writes here, so that a second run is refused.

Every file is written atomically (:func:`~d2lcnn.tools.history.write_atomically`), so a run stopped
at any moment loses at most the epoch it was in; a write that fails (disk full, a file-size
limit) names the file and the cause and leaves the previous checkpoint intact. Before anything is
loaded, the manifest is validated (its keys, its epoch against its history, file names that stay
inside the folder) and the files are checked against its checksums; a corrupt, truncated, missing
or unreadable file is named in the error, with what to do. Resuming is refused, saying what
differs, when the run asked for is not the one saved (another network, batch size, data, seed or
optimiser, or fewer epochs than are done); asking for more epochs than were planned is how a
finished run is continued.

The folder's files are the user's too: a run deletes only the epoch files that the manifest it
replaces lists, and its own temporary files, never anything else. A folder that already holds a
run is never started over by accident: ``resume=True`` continues it, ``Checkpoints(folder,
overwrite=True)`` (passed as ``checkpoint_dir=``) starts again and replaces it, and anything else
is refused. Epoch files without a manifest are reported, never deleted.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path

import mxnet as mx
from mxnet import gluon

from .history import History, file_size_limit, free_bytes, write_atomically

__all__ = ["CheckpointError", "Checkpoints", "RunIdentity"]

FORMAT = 3
MANIFEST = "checkpoint.json"
LOCK = "checkpoint.lock"
#: The only names of epoch files a checkpoint writes (and the only ones it may ever delete).
EPOCH_FILE = re.compile(r"epoch-(\d{4,})\.(?:trainer\.)?params")
#: The temporary files of :func:`write_atomically` for the names above, the manifest and the
#: write test: left only by a run killed while writing, and removed by the next save.
OWN_TEMP = re.compile(r"\.(?:checkpoint\.json|checkpoint\.write-test|"
                      r"epoch-\d{4,}\.(?:trainer\.)?params)\.[A-Za-z0-9_]{8}\.tmp")
#: Bytes kept free beside a checkpoint's files (the manifest, the file system's own needs).
SPARE_BYTES = 1 << 20
_REQUIRED = ("epoch", "params", "trainer", "updates", "files", "run", "history")


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as it is; the message names the file and the fix."""


@dataclass(frozen=True)
class RunIdentity:
    """What must be the same for a run to continue another: the network's architecture (its
    ``repr``, which lists every layer with its settings), batch size, training examples, seed,
    optimiser settings, and the training and test data (:func:`~d2lcnn.tools.data.data_identity`:
    data set, split, subset, number of examples, SHA-256 of the content; None for a loader whose
    content cannot be read up front)."""

    network: str
    architecture: str
    batch_size: int
    num_train: int
    seed: int | None
    optimizer: str
    train_data: dict | None = None
    test_data: dict | None = None

    def differences(self, saved: dict) -> list[str]:
        found = []
        for name, now in vars(self).items():
            before = saved.get(name)
            if before == now:
                continue
            if name == "architecture":
                found.append(f"the network's layers differ ({_first_difference(before, now)})")
            elif name in _DATA_ROLES:
                found.append(_data_difference(_DATA_ROLES[name], before, now))
            else:
                found.append(f"{name.replace('_', ' ')} {before!r} then, {now!r} now")
        return found


def _first_difference(before: str | None, now: str) -> str:
    for old, new in zip((before or "").splitlines(), now.splitlines(), strict=False):
        if old != new:
            return f"saved: {old.strip()!r}; now: {new.strip()!r}"
    return "one has more layers"


_DATA_ROLES = {"train_data": "training", "test_data": "test"}


def _data_difference(role: str, before: dict | None, now: dict | None) -> str:
    """What differs between two data identities, in words ("the training data differ: …")."""
    if not isinstance(before, dict) or not isinstance(now, dict):
        what = {True: "recorded", False: "not known (a loader whose content cannot be read)"}
        return (f"the {role} data differ: {what[isinstance(before, dict)]} then, "
                f"{what[isinstance(now, dict)]} now")
    words = {"dataset": "data set", "split": "split", "subset": "subset",
             "num_examples": "examples", "sha256": "content SHA-256"}
    parts = []
    for key, word in words.items():
        old, new = before.get(key), now.get(key)
        if old != new:
            if key == "sha256":
                old, new = f"{str(old)[:12]}…", f"{str(new)[:12]}…"
            parts.append(f"{word} {old!r} then, {new!r} now")
    if len(parts) == 1 and parts[0].startswith("content"):
        parts.append("the same number of examples, but other ones or in another order")
    return f"the {role} data differ: " + "; ".join(parts)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fix(folder: Path) -> str:
    return (f"delete {folder}, or pass checkpoint_dir=Checkpoints({str(folder)!r}, "
            "overwrite=True) (or another checkpoint_dir) to train afresh")


def _overwrite_hint(folder: Path) -> str:
    return (f"checkpoint_dir=Checkpoints({str(folder)!r}, overwrite=True) (from "
            "d2lcnn.tools.checkpoints import Checkpoints)")


class Checkpoints:
    """The checkpoint folder of one training run (see the module docstring). ``overwrite``: a
    run in the folder may be replaced by a new one (its files are deleted once the new run's
    first epoch is saved)."""

    def __init__(self, folder: str | os.PathLike, *, overwrite: bool = False) -> None:
        if isinstance(folder, Checkpoints):
            folder = folder.folder
        if not isinstance(folder, str | os.PathLike) or folder == "":
            raise TypeError(f"checkpoint_dir must be a folder (a str or Path), got {folder!r} "
                            f"({type(folder).__name__}): pass e.g. "
                            "checkpoint_dir='checkpoints/lenet', or None for no checkpoints")
        if not isinstance(overwrite, bool):
            raise TypeError(f"overwrite must be True or False, got {overwrite!r}: pass "
                            "overwrite=True to start again in a folder that holds a run")
        self.folder = Path(folder).expanduser()
        self.overwrite = overwrite
        self._lock = None

    def __repr__(self) -> str:
        flag = ", overwrite=True" if self.overwrite else ""
        return f"Checkpoints({str(self.folder)!r}{flag})"

    # --- before the first step ----------------------------------------------------------------

    def check_writable(self) -> None:
        """Create the folder and check that files can be written there; raises
        :class:`CheckpointError` (before anything is trained) when that is not possible."""
        if self.folder.exists() and not self.folder.is_dir():
            raise CheckpointError(f"checkpoint_dir {self.folder} is a file, not a folder: choose "
                                  "a folder (it is created if missing)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = write_atomically(self.folder / "checkpoint.write-test",
                                     lambda tmp: Path(tmp).write_text("ok"))
            probe.unlink()
        except OSError as err:
            raise CheckpointError(f"checkpoints cannot be written to {self.folder} "
                                  f"({_os_reason(err, self.folder)}): choose a folder you can "
                                  "write to, before the first epoch is lost") from err

    def check_space(self, largest_file: int, total: int) -> None:
        """Refuse, before the first epoch, a folder without room for one more checkpoint of
        ``total`` bytes (a new one is complete before the old one is deleted) or a file-size
        limit below ``largest_file`` bytes, where the system reports them."""
        limit = file_size_limit()
        if limit is not None and limit < largest_file + SPARE_BYTES:
            raise CheckpointError(
                f"checkpoints cannot be written to {self.folder}: a file-size limit (ulimit -f) "
                f"of {_size(limit)} is below the {_size(largest_file)} of this network's "
                "parameters: raise the limit (ulimit -f unlimited) or train without "
                "checkpoint_dir, before the first epoch is lost")
        free = free_bytes(self.folder)
        if free is not None and free < total + SPARE_BYTES:
            raise CheckpointError(
                f"the disk of {self.folder} is nearly full: {_size(free)} free, a checkpoint of "
                f"this network needs {_size(total + SPARE_BYTES)}: free some space or choose "
                "another checkpoint_dir, before the first epoch is lost")

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

    def start(self, resume: bool) -> dict | None:
        """What this run starts from (call it holding the lock): the checked manifest to resume
        from, or None to start afresh. Refuses a folder that holds a run unless ``resume`` (go
        on with it) or :attr:`overwrite` (start again) says what to do with it, and a folder
        holding epoch files without a manifest, which no run can own."""
        if not (self.folder / MANIFEST).exists() and not (self.folder / MANIFEST).is_symlink():
            strays = self.stray_epoch_files()
            if strays:
                raise CheckpointError(
                    f"{self.folder} holds {', '.join(strays[:4])}"
                    f"{' …' if len(strays) > 4 else ''} but no {MANIFEST}, so they are no "
                    "complete checkpoint (a run stopped before its first save was complete, or "
                    "a manifest deleted) and cannot be resumed; they are left as they are: move "
                    "them out of the folder (or delete them) or choose another checkpoint_dir")
            return None
        if resume:
            return self.latest()
        if self.overwrite:
            return None
        raise CheckpointError(
            f"checkpoint_dir {self.folder} already holds a run ({self._describe()}); it is not "
            f"overwritten unless you say so: pass resume=True to continue it, or "
            f"{_overwrite_hint(self.folder)} to start again and replace it, or choose another "
            "checkpoint_dir")

    def stray_epoch_files(self) -> list[str]:
        """Names in the folder shaped like a checkpoint's epoch files (sorted)."""
        try:
            return sorted(p.name for p in self.folder.iterdir() if EPOCH_FILE.fullmatch(p.name))
        except OSError:
            return []

    def _describe(self) -> str:
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text())
            run, history = manifest["run"], manifest["history"]
            return (f"{run['network']}, {manifest['epoch']} of {history['num_epochs']} "
                    "epoch(s) done")
        except (OSError, ValueError, KeyError, TypeError):
            return f"its {MANIFEST} cannot be read"

    # --- reading ------------------------------------------------------------------------------

    def latest(self) -> dict | None:
        """The manifest of the last complete epoch, checked (format, keys, file names, epoch
        against history, files, checksums), or None when the folder holds no checkpoint."""
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
        problem = _manifest_problem(manifest)
        if problem:
            raise CheckpointError(f"{path} {problem}, so it is not a manifest this d2lcnn wrote "
                                  f"(edited, or damaged): {_fix(self.folder)}")
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
                f". Resume with the same settings and data, or {_fix(self.folder)}")
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
        """Save the state after ``epoch`` complete epochs; returns the manifest's path. Then
        delete the epoch files of the manifest it replaced, and temporary files of killed
        writes (nothing else: the folder may hold the user's files too)."""
        stem = f"epoch-{epoch:04d}"
        params, state = f"{stem}.params", f"{stem}.trainer.params"
        replaced = self._listed_files()
        self._write(params, net.save_parameters, epoch)
        updates = self._write(state, lambda tmp: _save_trainer_state(net, trainer, Path(tmp)),
                              epoch)
        manifest = {"format": FORMAT, "epoch": epoch, "params": params, "trainer": state,
                    "updates": updates,
                    "files": {name: _sha256(self.folder / name) for name in (params, state)},
                    "run": vars(identity), "history": history.to_dict()}
        if hasattr(train_iter, "state_dict"):
            manifest["train_iter_state"] = train_iter.state_dict()
        text = json.dumps(manifest, indent=1)
        self._write(MANIFEST, lambda tmp: Path(tmp).write_text(text), epoch)
        for name in replaced - {params, state}:
            (self.folder / name).unlink(missing_ok=True)
        for leftover in self.folder.iterdir():  # of a run killed while writing
            if OWN_TEMP.fullmatch(leftover.name):
                leftover.unlink(missing_ok=True)
        return self.folder / MANIFEST

    def _listed_files(self) -> set[str]:
        """The epoch files the folder's current manifest lists (none when it cannot be read)."""
        try:
            files = json.loads((self.folder / MANIFEST).read_text())["files"]
            return {name for name in files if isinstance(name, str)
                    and EPOCH_FILE.fullmatch(name)}
        except (OSError, ValueError, KeyError, TypeError):
            return set()

    def _write(self, name: str, write, epoch: int):
        """``write_atomically(folder / name, write)``, returning what ``write`` returns; a
        failure (disk full, a file-size limit, a folder gone) is named with its cause."""
        result = []
        path = self.folder / name
        try:
            write_atomically(path, lambda tmp: result.append(write(tmp)))
        except (OSError, mx.base.MXNetError) as err:
            kept = (f"the checkpoint of epoch {epoch - 1} is intact" if epoch > 1 else
                    "no earlier checkpoint was touched")
            raise CheckpointError(
                f"{path} could not be written ({_os_reason(err, self.folder)}); nothing "
                f"half-written was left and {kept}: free some space (or raise the limit) and "
                "resume with resume=True, or choose another checkpoint_dir") from err
        return result[0]


def _manifest_problem(manifest: dict) -> str | None:
    """What is wrong with a manifest's content (None: nothing): the keys, the file names (they
    must be this epoch's files, inside the folder), the epoch against the history."""
    for key in _REQUIRED:
        if key not in manifest:
            return f"lacks {key!r}"
    epoch = manifest["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        return f"has epoch {epoch!r}, not a whole number ≥ 1"
    stem = f"epoch-{epoch:04d}"
    expected = {"params": f"{stem}.params", "trainer": f"{stem}.trainer.params"}
    files = manifest["files"]
    if not isinstance(files, dict):
        return f"has files {files!r}, not a table of names and checksums"
    for name in [*files, manifest["params"], manifest["trainer"]]:
        if not isinstance(name, str) or not EPOCH_FILE.fullmatch(name):
            return (f"names the file {name!r}, which is not a checkpoint's file of this folder "
                    "(epoch-NNNN.params or epoch-NNNN.trainer.params; no other folder)")
    for key, name in expected.items():
        if manifest[key] != name or name not in files:
            return f"says epoch {epoch} but names {manifest[key]!r} as its {key} file"
    if set(files) != set(expected.values()):
        return f"lists files {sorted(files)} for epoch {epoch}"
    if not all(isinstance(d, str) and re.fullmatch(r"[0-9a-f]{64}", d) for d in files.values()):
        return "has a checksum that is not a SHA-256"
    run = manifest["run"]
    missing = [f.name for f in fields(RunIdentity) if not isinstance(run, dict) or f.name not in run]
    if missing:
        return f"lacks the run's {', '.join(missing)}"
    updates = manifest["updates"]
    if not (isinstance(updates, dict) and isinstance(updates.get("num_update"), int)
            and isinstance(updates.get("update_count"), dict)):
        return "lacks the optimiser's update counts"
    try:
        history = History.from_dict(manifest["history"])
    except (ValueError, TypeError) as err:
        return f"holds a damaged history ({err})"
    if history.epochs_done != epoch:
        return f"says epoch {epoch} but its history holds {history.epochs_done} epoch(s)"
    return None


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def _os_reason(err: BaseException, folder: Path) -> str:
    """Why a write failed, in words: the disk full, a file-size limit, a read-only file system,
    no permission, or the error's own words. MXNet's errors carry no errno
    ("FileStream.Write incomplete"), so the disk and the limit are looked at then."""
    code = getattr(err, "errno", None)
    free, limit = free_bytes(folder), file_size_limit()
    if code == errno.ENOSPC or (code is None and free is not None and free < SPARE_BYTES):
        return f"the disk is full: {_size(free or 0)} free"
    if code == errno.EFBIG or (code is None and limit is not None):
        return f"a file-size limit (ulimit -f) of {_size(limit or 0)}"
    if code == errno.EROFS:
        return "a read-only file system"
    if code in (errno.EACCES, errno.EPERM):
        return "no permission to write there"
    if code is not None:
        return getattr(err, "strerror", None) or str(err)
    return _short(err)


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
    """Write the optimiser's per-parameter state to ``path`` (a temporary file of
    :meth:`Checkpoints.save`) as arrays named by their parameter's place; return its update
    counters."""
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
    mx.nd.save(str(path), arrays)
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
