"""Immutable, keyword-only value objects for the many small Event and Decision types.

Why not dataclasses: `@dataclass(frozen=True)` generates six methods per class with `exec`, about 1.4 ms each class at
import, which for the event and decision types alone was ~30 ms of every Lambda cold start (bench/). This base reads
the annotations once per class and shares one generic implementation; `dataclass_transform` (PEP 681) tells type
checkers that subclasses take their fields as keyword arguments, exactly like `@dataclass(frozen=True, kw_only=True)`.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, dataclass_transform


class FrozenRecordError(AttributeError):
    pass


@dataclass_transform(kw_only_default=True, frozen_default=True)
class Record:
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fields: dict[str, None] = {}
        defaults: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for name, annotation in inspect.get_annotations(klass).items():
                if name.startswith("_") or str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                    continue
                if isinstance(getattr(cls, name, None), property):
                    raise TypeError(f"{cls.__name__}.{name} would hide the property of the same name")
                fields[name] = None
                if name in klass.__dict__:
                    defaults[name] = klass.__dict__[name]  # defaults must be immutable, as with dataclasses
                else:
                    defaults.pop(name, None)
        cls._fields = tuple(fields)
        cls._defaults = defaults

    def __init__(self, **values: Any) -> None:
        unknown = values.keys() - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected fields {sorted(unknown)}")
        for name in self._fields:
            if name in values:
                value = values[name]
            elif name in self._defaults:
                value = self._defaults[name]
            else:
                raise TypeError(f"{type(self).__name__} is missing the field {name!r}")
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenRecordError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise FrozenRecordError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({inner})"
