"""Old names that keep working for one release (premeta 0.3), with a :class:`DeprecationWarning`
naming the new one; CHANGELOG.md lists them under "Deprecated". Core: imports nothing of premeta."""

from __future__ import annotations

import functools
import warnings

#: The release that removes the old names.
REMOVED_IN = "0.4"


def warn_renamed(old: str, new: str) -> None:
    """Warn that ``old`` is now called ``new`` (at the caller's caller)."""
    warnings.warn(f"{old} is deprecated and will be removed in premeta {REMOVED_IN}: use {new}",
                  DeprecationWarning, stacklevel=3)


class deprecated_alias:
    """A read-only attribute ``old`` that returns ``new`` with a warning:
    ``vb = deprecated_alias("vcov", "Fit.vb")``."""

    def __init__(self, new: str, old: str):
        self.new, self.old = new, old

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        warn_renamed(self.old, f"{self.old.rsplit('.', 1)[0]}.{self.new}")
        return getattr(obj, self.new)


def renamed_arguments(**renames: str):
    """Decorator: keyword arguments ``old=`` still accepted as ``new=``, with a warning.

    ``@renamed_arguments(by="group_by")`` lets ``f(effects, by="mechanism")`` call
    ``f(effects, group_by="mechanism")``; giving both is an error.
    """
    def wrap(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {old}= (deprecated) and {new}=")
                    warnings.warn(f"{fn.__name__}({old}=...) is deprecated and will be removed in premeta "
                                  f"{REMOVED_IN}: use {new}=", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)
        return call
    return wrap
