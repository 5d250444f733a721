"""The public API: importable from ``premeta``, documented, its examples run, one vocabulary."""

import doctest
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import premeta

MODULES = ["premeta"] + [m.name for m in pkgutil.walk_packages(premeta.__path__, "premeta.")]
FUNCTIONS = [name for name in premeta.__all__ if inspect.isfunction(getattr(premeta, name))]
#: what a notebook needs, as the issue lists it
NEEDED = {"rma", "fit", "escalc", "rma_mv", "robust", "aggregate", "metareg", "permutest", "egger", "trimfill",
          "leave1out", "influence", "rve", "leave1cluster", "egger_ols", "subgroup_tests", "stratified"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    """Every ``>>>`` example in the package's docstrings runs and prints what it shows."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_everything_a_notebook_needs_is_importable_from_premeta():
    assert NEEDED <= set(FUNCTIONS)
    assert premeta.metareg is importlib.import_module("premeta.regression").metareg
    assert premeta.rve is importlib.import_module("premeta.robumeta").rve


def test_no_module_is_named_like_a_public_name():
    """Importing a module never hides a public function of the same name (``premeta.gosh``)."""
    for name in MODULES:
        importlib.import_module(name)
    modules = {name.rsplit(".", 1)[-1] for name in MODULES}
    assert not modules & set(premeta.__all__)
    assert all(not isinstance(getattr(premeta, n), type(premeta)) for n in premeta.__all__)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_public_function_is_documented(name):
    """numpydoc sections, R's equivalent, an example; a ``test`` argument defaults to z and says so."""
    fn = getattr(premeta, name)
    doc = inspect.getdoc(fn)
    for section in ("Parameters\n----------", "Returns\n-------", "Examples\n--------\n>>>"):
        assert section in doc, f"{name}: no {section.splitlines()[0]}"
    assert any(ref in doc for ref in ("metafor", "robumeta", "clubSandwich")), name
    params = inspect.signature(fn).parameters
    if "test" in params:
        assert params["test"].default == "z" and 'default ``"z"``' in doc, name


def test_py_typed_ships():
    assert (Path(premeta.__file__).parent / "py.typed").exists()
