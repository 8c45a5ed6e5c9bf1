"""Heading anchors as JupyterLab makes them, for the site's links (book/conf.py).

A link such as `08_lenet.ipynb#Max-vs-average-pooling` written in a notebook works in JupyterLab,
which names each heading by its text with spaces turned into hyphens (createHeaderId in
@jupyterlab/rendermime); myst-parser uses this function to resolve the same link on the site. It
lives in a module of its own because Sphinx pickles its environment, and a function defined in
conf.py cannot be pickled.
"""


def heading_anchor(text: str) -> str:
    """The anchor JupyterLab gives a heading: "Max vs average pooling" -> "Max-vs-average-pooling"."""
    return text.replace(" ", "-")
