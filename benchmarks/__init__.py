"""Speed of d2lcnn against d2l 1.0.3, on this machine: ``python -m benchmarks.run`` (README.md)."""
