"""The course's tools: what the chapters use but do not teach.

- :mod:`~d2lcnn.tools.data` — Fashion-MNIST and MNIST from the original files, fast batches;
- :mod:`~d2lcnn.tools.plot` — image grids, kernels, feature maps, the live training plot;
- :mod:`~d2lcnn.tools.explore` — interactive pictures of sliding windows, padding and stride;
- :mod:`~d2lcnn.tools.summary` — per-layer tables: shapes, parameters, multiply-adds, receptive
  field, memory;
- :mod:`~d2lcnn.tools.figures` — architecture pictures drawn from the networks themselves;
- :mod:`~d2lcnn.tools.blocks` — the tree of blocks of a network, feature maps, learned kernels;
- :mod:`~d2lcnn.tools.history` — what a training run did, saved and compared with the book;
- :mod:`~d2lcnn.tools.checkpoints` — saving and resuming a training run safely;
- :mod:`~d2lcnn.tools.networks` — each network's identity: name, chapter, its forms (book, native,
  book-recipe);
- :mod:`~d2lcnn.tools.comparison` — all networks side by side (chapter 16);
- :mod:`~d2lcnn.tools.arrays`, :mod:`~d2lcnn.tools.tables` — small conversions, text tables.

Import the modules you need: ``from d2lcnn.tools import data, plot``.
"""
