"""Sphinx configuration for the butler-testkit documentation."""

from butler_testkit import __version__

project = "butler-testkit"
author = "butler-testkit developers"
copyright = "2026, butler-testkit developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_heading_anchors = 4

# Document what we write: members we define, not the ones inherited from
# daf_butler's Datastore (whose docstrings are daf_butler's business).
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc sections already give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

html_theme = "alabaster"
html_title = f"butler-testkit {__version__}"
