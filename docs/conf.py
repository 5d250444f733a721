"""Sphinx configuration of premeta's documentation site (``make docs``)."""

from importlib import metadata

project = "premeta"
author = "premeta contributors"
copyright = "premeta contributors, MIT licence"
release = metadata.version("premeta")
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]

# Markdown pages: `{include}` of the repository's own READMEs, tables, `$...$` maths
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# API reference: the public names as `premeta.<name>`, documented from their numpydoc docstrings
autodoc_typehints = "none"  # numpydoc's Parameters section gives the types
autodoc_member_order = "bysource"
autosummary_generate = False
numpydoc_show_class_members = False  # a class's methods and attributes are described in its docstring
numpydoc_class_members_toctree = False

html_theme = "furo"
html_title = f"premeta {release}"
html_static_path = ["_static"]
html_css_files = ["premeta.css"]
