"""Fast paths, explained once: pausing the cyclic garbage collector (垃圾回收) while the library makes many objects,
and decoding the JSON the library itself wrote without validating it again (``trusted_decoder``).

Python frees almost everything by reference counting; the cyclic collector only finds reference cycles, and it runs
whenever enough new objects have been made since it last ran, walking every object still alive. Work that makes
many objects and no cycles gains nothing from it and pays for every walk, so the library pauses it there, and only
there (nothing else in the package touches the collector):

>>> import gc
>>> was = gc.isenabled()
>>> with gc_paused():
...     gc.isenabled()
False
>>> gc.isenabled() == was
True
"""

from __future__ import annotations

import gc
import inspect
import threading
import types
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from typing import Annotated, Any, Callable, Iterator, Literal, Mapping, Optional, Union, get_args, get_origin

import msgspec
from pydantic import AfterValidator, BaseModel

BULK_EVENTS = 1000
"""A bulk append pauses the collector from this many events (fewer make too few objects to trigger a collection)."""

_LOCK = threading.Lock()
_PAUSES = [0, False]
"""How many pauses are running in this process, and whether the collector was enabled before the first. Process-wide
on purpose, the one global state of the package: the collector is itself process-wide, and two threads pausing it
at once must not restore it wrongly (the last pause to end restores it)."""


@contextmanager
def gc_paused(events: int | None = None) -> Iterator[None]:
    """Pause cyclic garbage collection for the block: a bulk append of ``events`` (paused from ``BULK_EVENTS``), or
    one step of a batch audit (no number: always paused).

    What it saves: a big batch keeps tens of thousands of young objects alive until it commits (events, rows,
    receipts), which makes the collector run full collections over the whole heap several times per batch: a third
    of the append time in the ingest benchmark. An audit allocates thousands of short-lived objects, and a batch
    audit's caller keeps the reports: the collections they trigger pass over every report kept so far, a tenth of
    the batch audit's time.

    What keeps it safe: neither makes reference cycles (what they make is freed by reference counting), so a pause
    loses nothing; the collector is restored as it was when the last concurrent pause ends, also on an error; and a
    batch audit ends each pause before it hands a report over (never across a ``yield``), so the caller's code runs
    with the collector as the caller left it, and whatever cycles an audit might leave are found by the next
    collection.
    """
    if events is not None and events < BULK_EVENTS:
        yield
        return
    with _LOCK:
        if _PAUSES[0] == 0:
            _PAUSES[1] = gc.isenabled()
            gc.disable()
        _PAUSES[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _PAUSES[0] -= 1
            if _PAUSES[0] == 0 and _PAUSES[1]:
                gc.enable()


# -- trusted decode ---------------------------------------------------------------------------------------------------

NESTED_KEPT = 4096
"""How many distinct nested models (a grade, a target) one decoder keeps, by their JSON text, for the next rows."""

_DECODE_ERRORS = (ValueError, TypeError, KeyError, ArithmeticError)
"""What JSON not as the library writes it raises while decoding (``msgspec``'s errors are ValueErrors)."""


def trusted_decoder(models: Mapping[str, type[BaseModel]], *, tag: str = "kind") -> Callable[[str], Any]:
    """A decoder of the canonical JSON of ``models`` (``model_dump_json()``; ``tag`` names the field whose value,
    the key of ``models``, says which): the model, built without pydantic's validation, or ``None`` for JSON it
    does not take, which the caller then validates in full (and refuses, if it must).

    What it saves: pydantic's validation of a stored event is most of a read's time, and a read of a student's
    record decodes every row. Here ``msgspec`` decodes the JSON straight into a struct made once per model from its
    fields' types (text, a date from ISO text, a ``Decimal`` from its text, a literal or enum among its values, a
    nested model's struct, ``None`` where allowed, no field missing and none unknown), in C, and the model is made
    from the struct's values by its ``trusted_fields``; a nested model (a grade, a target) is made once per distinct
    JSON text and shared (it is immutable). Measured on the audit benchmark's rows, in one process: 4.0-4.4 us per
    event against 9.3-9.8 us for validation (``json.loads`` alone into dicts took 4.8-5.5 us, ``orjson`` 1.6-1.8,
    ``msgspec`` 1.7; turning those dicts into models field by field in Python was no quicker than validation).

    What keeps it safe: it is only given rows the chain check passed before it (``reading.read_checked_event``,
    after ``chain.check_record``: the row is byte for byte what the library wrote, and the library validated every
    event it wrote); rows read without that check are validated in full. Even so it builds no
    half event: anything not exactly as the library writes it (not JSON, an unknown tag, a missing or unknown
    field, a value of another type, a literal or enum value not among its choices, a date not ``YYYY-MM-DD``) gives
    ``None``, and the models' own checks run on what it builds (``AfterValidator`` functions, after field
    validators, model validators), so a model that would refuse the data refuses it here too (``None``). What it
    does not check again is what is declared as a bound: lengths, patterns, ``ge``/``le`` and digits. A row with a
    bound broken and its hash recomputed is a forgery a read cannot see anyway (a well-formed one would pass
    validation too); ``verify()`` finds it by the checkpoints. A model whose fields use a type or validator this
    does not know cannot be planned at all (``TypeError`` when the decoder is made, at import), so a new kind of
    field fails at once, never silently on a read.

    >>> class Note(BaseModel):
    ...     kind: Literal["note"] = "note"
    ...     on: date
    ...     credits: Decimal | None = None
    ...     @classmethod
    ...     def trusted_fields(cls, fields, fields_set):
    ...         return cls.model_construct(_fields_set=set(fields_set), **fields)
    >>> decode = trusted_decoder({"note": Note})
    >>> decode('{"kind":"note","on":"2026-01-10","credits":"2.5"}')
    Note(kind='note', on=datetime.date(2026, 1, 10), credits=Decimal('2.5'))
    >>> decode('{"kind":"note","on":"2026-01-10"}') is None  # a field missing: the caller validates in full
    True
    """
    plans = {name: _Plan(cls) for name, cls in models.items()}
    decoders = {name: (msgspec.json.Decoder(plan.struct), plan.build) for name, plan in plans.items()}
    marker = f'"{tag}":"'
    skip = len(marker)

    def decode(payload: str) -> Any:
        # The tag's value only chooses the struct to try: that struct's own literal checks it, so a wrong guess
        # (the marker found inside a value) is refused by the decode, never believed.
        at = payload.find(marker) + skip
        try:
            decoder, build = decoders[payload[at:payload.index('"', at)]]
            return build(decoder.decode(payload))
        except _DECODE_ERRORS:
            return None

    return decode


def trusted_model_decoder(model: type[BaseModel]) -> Callable[[str], Any]:
    """A decoder of one model's canonical JSON (``model_dump_json()``), as ``trusted_decoder`` decodes each of its
    models (no tag to choose by): the model, or ``None`` for JSON it does not take (the caller validates in full).

    What it saves: a refresh of a province's summaries reads back one kept ``AuditSummary`` per student whose record
    did not change, and validating that JSON was half of what such a student cost. What keeps it safe is what
    ``trusted_decoder`` checks, and that ``AuditSummary`` declares no bounds (no lengths, patterns or ``ge``/``le``)
    the decode would not check: for it the decode accepts exactly what validation accepts
    (``tests/test_trusted_decode.py``).
    """
    plan = _Plan(model)
    decoder, build = msgspec.json.Decoder(plan.struct), plan.build

    def decode(payload: str) -> Any:
        try:
            return build(decoder.decode(payload))
        except _DECODE_ERRORS:
            return None

    return decode


class _Plan:
    """How to decode one model: the ``msgspec`` struct of its fields, and how its values become the model."""

    def __init__(self, cls: type[BaseModel]) -> None:
        decorators = cls.__pydantic_decorators__
        if decorators.validators or decorators.root_validators or decorators.field_serializers \
                or decorators.model_serializers or cls.model_config.get("alias_generator") \
                or any(f.alias not in (None, n) for n, f in cls.model_fields.items()):
            raise TypeError(f"{cls.__name__}: validators, serializers or aliases a plan cannot follow")
        self.afters: list[Callable[[Any], Any]] = []
        for m in decorators.model_validators.values():
            if m.info.mode != "after":  # a before validator may turn other input into data: the full path's job
                if m.info.mode == "before" and _is_identity_for_dicts(m.func):
                    continue
                raise TypeError(f"{cls.__name__}: a {m.info.mode} model validator cannot be planned")
            self.afters.append(_of_the_value(m.func, cls.__name__))
        checks: dict[str, list[Callable[[Any], Any]]] = {}
        for f in decorators.field_validators.values():
            if f.info.mode != "after":
                raise TypeError(f"{cls.__name__}: only after field validators can be planned")
            for name in f.info.fields:
                checks.setdefault(name, []).append(_of_the_value(f.func, f"{cls.__name__}.{name}"))
        fields = []
        self.steps: list[tuple[str, Callable[[Any], Any]]] = []
        """Per field that needs one, in order: its name and what turns the struct's value into the model's."""
        for name, info in cls.model_fields.items():
            struct_type, convert, field_checks = _struct_type(info.annotation, info.metadata,
                                                              f"{cls.__name__}.{name}")
            fields.append((name, struct_type))
            field_checks += checks.get(name, [])
            if convert is not None or field_checks:
                self.steps.append((name, _then(convert, field_checks)))
        self.names = tuple(cls.model_fields)
        self.struct = msgspec.defstruct(f"{cls.__name__}Struct", fields, forbid_unknown_fields=True)
        self.make: Callable[[dict[str, Any], tuple[str, ...]], Any] = attrgetter("trusted_fields")(cls)

    def nested(self) -> Callable[[Any], Any]:
        """How a nested model's JSON (``msgspec.Raw``) becomes the model: once per distinct text, kept (up to
        ``NESTED_KEPT`` of them) for the next row that holds the same text. A ledger's grades and targets repeat
        (a few hundred distinct ones across a province), and the model is immutable, so the same text may be the
        same model; a text seen for the first time is decoded and checked in full (``build``)."""
        decoder = msgspec.json.Decoder(self.struct)
        build = self.build
        kept: dict[bytes, Any] = {}

        def nested(raw: Any) -> Any:
            text = bytes(raw)
            made = kept.get(text)
            if made is None:
                if len(kept) >= NESTED_KEPT:
                    kept.clear()
                made = kept[text] = build(decoder.decode(text))
            return made

        return nested

    def build(self, struct: Any) -> Any:
        fields = _as_dict(struct)  # the model's fields in declaration order: the struct's
        for name, step in self.steps:
            fields[name] = step(fields[name])
        obj = self.make(fields, self.names)
        for after in self.afters:
            after(obj)
        return obj


def _of_the_value(func: Any, where: str) -> Callable[[Any], Any]:
    """A validator that takes the value alone (one that also takes pydantic's ``info`` cannot be planned)."""
    if len(inspect.signature(func).parameters) != 1:
        raise TypeError(f"{where}: a validator that takes more than the value cannot be planned")
    checked: Callable[[Any], Any] = func
    return checked


def _is_identity_for_dicts(func: Callable[[Any], Any]) -> bool:
    """Whether a before model validator returns a JSON object (a dict) as it is (asked of one sample)."""
    sample: dict[str, Any] = {}
    return func(sample) is sample


def _then(convert: Callable[[Any], Any] | None, checks: list[Callable[[Any], Any]]) -> Callable[[Any], Any]:
    """``convert``, then each of ``checks`` (one function when there is one)."""
    if convert is None and len(checks) == 1:
        return checks[0]
    if convert is not None and not checks:
        return convert

    def run(value: Any) -> Any:
        if convert is not None:
            value = convert(value)
        for check in checks:
            value = check(value)
        return value

    return run


def _struct_type(annotation: Any, metadata: list[Any], where: str
                 ) -> tuple[Any, Callable[[Any], Any] | None, list[Callable[[Any], Any]]]:
    """A field's type for ``msgspec``, what turns its decoded value into the model's (``None``: nothing), and the
    checks its annotation adds (``AfterValidator`` functions)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return _struct_type(inner, [*extra, *metadata], where)
    checks: list[Callable[[Any], Any]] = []
    for item in metadata:
        if isinstance(item, AfterValidator):
            checks.append(_of_the_value(item.func, where))
        elif type(item).__name__.endswith("Validator") or callable(item):
            raise TypeError(f"{where}: a {type(item).__name__} cannot be planned")
    if origin in (Union, types.UnionType):
        args = get_args(annotation)
        if len(args) != 2 or type(None) not in args:
            raise TypeError(f"{where}: only an optional type (X | None) can be planned, not {annotation!r}")
        inner_type, convert, inner_checks = _struct_type(next(a for a in args if a is not type(None)), [], where)
        if convert is not None or inner_checks:
            step = _then(convert, inner_checks)
            return Optional[inner_type], lambda v: None if v is None else step(v), checks
        return Optional[inner_type], None, checks
    if origin is Literal:
        if not all(type(c) is str for c in get_args(annotation)):
            raise TypeError(f"{where}: only literals of text can be planned")
        return annotation, None, checks
    if origin is tuple:
        args = get_args(annotation)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"{where}: only tuple[X, ...] can be planned")
        item_type, convert, item_checks = _struct_type(args[1 - 1], [], where)
        if convert is not None or item_checks:
            raise TypeError(f"{where}: only a tuple of plain values can be planned")
        return types.GenericAlias(tuple, (item_type, ...)), None, checks
    if origin is not None:
        raise TypeError(f"{where}: {annotation!r} cannot be planned")
    if annotation in (str, date, Decimal, bool, int) or (isinstance(annotation, type) and issubclass(annotation,
                                                                                                      Enum)):
        return annotation, None, checks
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return msgspec.Raw, _Plan(annotation).nested(), checks
    raise TypeError(f"{where}: {annotation!r} cannot be planned")


_as_dict = msgspec.structs.asdict

__all__ = ["BULK_EVENTS", "gc_paused", "trusted_decoder", "trusted_model_decoder"]
