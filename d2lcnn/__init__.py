"""d2lcnn: the helper package of the d2lcnn notebook series (CNNs with MXNet Gluon).

Modules, one concern each:

- :mod:`d2lcnn.config` — quick mode and seeds;
- :mod:`d2lcnn.data` — Fashion-MNIST / MNIST from the original IDX files, fast in-memory batches;
- :mod:`d2lcnn.device` — choosing a GPU only when it really works, else the CPU;
- :mod:`d2lcnn.doctor` — ``python -m d2lcnn.doctor``: which devices work here, and why not;
- :mod:`d2lcnn.cuda_libs` — the CUDA libraries of the GPU install, loaded before MXNet;
- :mod:`d2lcnn.cpu_threads` — all physical CPU cores for MXNet's operators, set before MXNet;
- :mod:`d2lcnn.train` — the chapter-6 training loop and accuracy evaluation;
- :mod:`d2lcnn.models` — the networks of the series as Gluon ``HybridBlock`` s;
- :mod:`d2lcnn.summary` — per-layer tables (shapes, parameters, multiply-adds, receptive field);
- :mod:`d2lcnn.receptive_field` — receptive-field arithmetic;
- :mod:`d2lcnn.plot` — image grids, live training curves, filters and feature maps;
- :mod:`d2lcnn.ops` — convolution and pooling from scratch (chapters 01–04);
- :mod:`d2lcnn.explore` — interactive pictures: sliding windows, padding/stride explorer;
- :mod:`d2lcnn.scratch` — NumPy layers with backward passes and gradient checks (chapter 07);
- :mod:`d2lcnn.activations` — activation functions and their derivatives (chapter 06);
- :mod:`d2lcnn.lenet5` — the original LeNet-5's parameters and connections (chapter 05);
- :mod:`d2lcnn.features` — what a trained network computes: feature maps, first-layer filters;
- :mod:`d2lcnn.published` — the book's published results, as data;
- :mod:`d2lcnn.comparison` — all networks side by side (chapter 16).

Import the submodules you need (``from d2lcnn import data, train``); importing the package itself
is cheap and does not import MXNet. It prepares MXNet, which must happen before MXNet is imported
(so import ``d2lcnn`` first): it makes the CUDA libraries of the GPU install (pip's
``nvidia-*-cu11`` wheels) loadable, and lets MXNet's operators use every physical CPU core where
MXNet would use half of them (:mod:`d2lcnn.cpu_threads`). Without the wheels, on a
hyper-threaded CPU, this is a few file reads.
"""

import sys as _sys

from . import cpu_threads as _cpu_threads
from . import cuda_libs as _cuda_libs

for _warning in [*_cuda_libs.preload().warnings, _cpu_threads.apply().warning]:
    if _warning:
        print(f"d2lcnn: {_warning}", file=_sys.stderr)

__version__ = "0.1.0"
