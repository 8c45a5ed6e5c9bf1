"""d2lcnn: the helper package of the d2lcnn notebook series (CNNs with MXNet Gluon).

Modules, one concern each:

- :mod:`d2lcnn.config` — quick mode and seeds;
- :mod:`d2lcnn.data` — Fashion-MNIST / MNIST from the original IDX files, fast in-memory batches;
- :mod:`d2lcnn.device` — choosing a GPU only when it really works, else the CPU;
- :mod:`d2lcnn.train` — the chapter-6 training loop and accuracy evaluation;
- :mod:`d2lcnn.models` — the networks of the series as Gluon ``HybridBlock`` s;
- :mod:`d2lcnn.summary` — per-layer tables (shapes, parameters, multiply-adds, receptive field);
- :mod:`d2lcnn.receptive_field` — receptive-field arithmetic;
- :mod:`d2lcnn.plot` — image grids and live training curves.

Import the submodules you need (``from d2lcnn import data, train``); importing the package itself
is cheap and does not import MXNet.
"""

__version__ = "0.1.0"
