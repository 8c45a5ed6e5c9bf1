"""d2lcnn: the package of the d2lcnn notebook series (convolutional networks with MXNet Gluon).

Three groups, one subpackage each:

- :mod:`d2lcnn.lessons` — the code the chapters teach (``corr2d``, ``LeNet``, ``train``,
  ``Residual`` …), generated from the chapters' ``#@save`` cells: edit the notebook, then run
  ``make lib``;
- :mod:`d2lcnn.tools` — the course's tools: data, plots, summaries, the networks' registry and
  training records, the comparison of chapter 16;
- :mod:`d2lcnn.machine` — the plumbing between MXNet and this machine: CUDA libraries, CPU threads,
  devices, the doctor, several machines.

:mod:`d2lcnn.config` reads every setting that comes from the environment.

Start with ``from d2lcnn import machine; machine.prepare()`` before anything imports MXNet, as each
chapter's first cell does. Importing ``d2lcnn`` does one thing only: it gives NumPy back the
aliases MXNet 1.9.1 reads when it is imported (``np.bool`` …, removed in NumPy 1.24), so that every
module of the package can import MXNet on Python 3.12 too (:mod:`d2lcnn.machine.compat`).
"""

from .machine.compat import restore_numpy_aliases as _restore_numpy_aliases

_restore_numpy_aliases()

__version__ = "0.2.0"
