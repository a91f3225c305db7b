"""Values kept beside an object rather than on it.

A Program or Call is the frozen description of work that a board loads (issue #9): what a
host backend or the cost model derives from it (an arena plan, kernel bindings, priced Costs,
run counts) lives here, keyed by the object's identity, since Programs and Calls are
unhashable dataclasses that compare by value, and goes when the object does."""
from __future__ import annotations

import weakref


class Beside:
    """id(obj) -> (weak reference to obj, key, value).  `key` guards against a setting that
    changed since the value was built (e.g. SPINLA_THREADS, which bindings bake in)."""

    def __init__(self):
        self._d = {}

    def get(self, obj, build, key=None):
        """The value kept beside obj under `key`, built by build() when there is none."""
        e = self._d.get(id(obj))
        if e is not None and e[0]() is obj and e[1] == key:
            return e[2]
        value = build()
        d, k = self._d, id(obj)

        def drop(ref, d=d, k=k):
            if d.get(k, (None,))[0] is ref:
                del d[k]
        self._d[k] = (weakref.ref(obj, drop), key, value)
        return value

    def peek(self, obj, key=None):
        """The value kept beside obj, or None."""
        e = self._d.get(id(obj))
        return e[2] if e is not None and e[0]() is obj and e[1] == key else None

    def clear(self):
        self._d.clear()

    def __len__(self):
        return len(self._d)
