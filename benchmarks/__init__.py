"""Benchmarks of the series: ``python -m benchmarks.run`` (data pipeline and training loop against
d2l's) and ``python -m benchmarks.native`` (every native form trained on all of Fashion-MNIST).

Importing this package prepares the machine for MXNet first (CPU threads, CUDA libraries, NumPy's
aliases), as every notebook's first cell does, so that the modules below can import MXNet at the
top: the measurements are made under the same settings as the chapters.
"""

from d2lcnn import machine

machine.prepare()
