"""Sphinx configuration of the series' static site (`make book`; book/build_book.py runs Sphinx with it).

The source folder is book/_build/src, which book/build_book.py fills with the committed notebooks (as
they are: nothing is executed, their outputs are the reference runs) and a landing page made from
the README's table of contents. Pages are rendered by myst-nb with sphinx-book-theme.

Everything a page needs is served from the site itself, so it reads offline: MathJax comes from
the `django-static-mathjax` wheel (MathJax 3.2.2; no CDN), the theme's fonts and scripts are in its
own _static folder, and ipywidgets' JavaScript (which myst-nb would load from a CDN) is left out: a
widget cannot run without a kernel anyway, so each explorer shows the picture of its starting
state that its output carries beside the widget.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # jupyterlab_anchors, beside this file

project = "d2lcnn"
author = "the d2lcnn authors"
html_title = "d2lcnn"
language = "en"

extensions = ["myst_nb"]

# --- notebooks: rendered from their committed outputs, never executed -------------------------
nb_execution_mode = "off"
# No widget JavaScript from a CDN; without it a widget view renders as nothing, so the HTML
# builder skips that output type and shows the next in line: the explorer's PNG of its start.
nb_ipywidgets_js: dict = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
myst_enable_extensions = ["dollarmath"]
# `$$…$$` may stand inside a paragraph, as JupyterLab allows.
myst_dmath_double_inline = True
# Links such as `08_lenet.ipynb#Summary` find headings down to level 3, by the anchors JupyterLab
# gives them, so that a link that works in JupyterLab works on the site (book/jupyterlab_anchors.py).
myst_heading_anchors = 3
myst_heading_slug_func = "jupyterlab_anchors.heading_anchor"

# --- pages -----------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_static_path = ["_static"]
html_css_files = ["d2lcnn.css"]
html_favicon = "_static/favicon.svg"  # a 3×3 kernel; without one, browsers ask for a missing /favicon.ico
templates_path = ["_templates"]
html_copy_source = True  # the download button and the "Run it" line link to _sources/NN.ipynb
html_show_sphinx = False
html_last_updated_fmt = None
# Light unless the reader switches (the figures are drawn for a white page); an empty mode is a
# console error in the theme.
html_context = {"default_mode": "light"}

# --- math, from the site itself ----------------------------------------------------------------
# MathJax 3's SVG output draws every glyph inline: no web fonts to fetch, so the math shows even
# from a page opened as a file, where Chromium refuses fonts.
MATHJAX_ENTRY = "tex-svg.js"
mathjax_path = f"mathjax/{MATHJAX_ENTRY}"
# An undefined macro is an error (a red box the browser test finds), not its name in red.
# (myst-parser adds the classes MathJax should typeset, `options.processHtmlClass`, to this.)
mathjax3_config = {"tex": {"packages": {"[-]": ["noundefined"]}}}
# Only what tex-svg.js loads: itself, the TeX extensions it loads on demand (\boldsymbol …), and
# the menu's and accessibility parts it loads when a reader uses them.
MATHJAX_PARTS = (MATHJAX_ENTRY, "input", "output/svg", "ui", "a11y", "adaptors", "sre")


def mathjax_source() -> Path:
    """The es5 folder of MathJax 3 inside the `django-static-mathjax` wheel (book extra)."""
    try:
        import mathjax  # the wheel's package name
    except ImportError as error:
        raise RuntimeError(
            "MathJax for the site comes from the django-static-mathjax package: install the book "
            "extra (make book does it; by hand: pip install -e '.[book]')"
        ) from error
    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def copy_mathjax(app, exception) -> None:
    """Copy MathJax into the site's _static/mathjax once the pages are written."""
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)


def setup(app) -> None:
    mathjax_source()  # fail before the build, with the fix, where MathJax is missing
    app.connect("build-finished", copy_mathjax)
