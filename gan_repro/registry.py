"""Registries that build: networks, families, datasets, evaluators, figures, hooks and
report sections by name.

A declaration (``experiments/**/NAME.yaml``) names everything it uses; the runner turns each
name into an object with ``NETWORKS.build(name, **kwargs)`` (and so on). Things register
themselves where they are defined, with a decorator that leaves the function or class unchanged::

    @NETWORKS.register("cogan_generators_32", source="SCoGAN Table 3.1", shared_layers=4)
    @NETWORKS.register("scogan_generators_32", source="SCoGAN Table 3.1, nothing shared")
    def cogan_generators_32(shared_layers=0, ...): ...

An entry holds the callable, where it comes from (the thesis table it reproduces) and default
keyword arguments, so one builder can stand behind several published configurations. This
module is a leaf (it imports only :mod:`gan_repro.errors`), so any module can register into it
without an import cycle. The packages that define entries import their modules
(``import gan_repro.models`` fills ``NETWORKS``); :mod:`gan_repro.catalog` imports all of them,
for the runner and the CLI.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gan_repro.errors import BadOptionError


class UnknownNameError(BadOptionError, KeyError):
    """A name that is not registered; the message lists the registered ones."""

    def __str__(self) -> str:  # KeyError quotes its message; this one is for people
        return str(self.args[0])


@dataclass(frozen=True)
class Entry:
    """One registered callable: ``build(**kwargs)`` calls it with ``defaults`` under ``kwargs``."""

    name: str
    fn: Callable[..., Any]
    source: str = ""
    defaults: dict = field(default_factory=dict)

    def build(self, /, **kwargs):
        return self.fn(**{**self.defaults, **kwargs})


class Registry:
    """Named callables of one kind (``kind`` is what error messages call them)."""

    def __init__(self, kind: str, fills: tuple[str, ...] = ()):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        #: Modules whose import registers this kind's entries, imported on the first lookup of
        #: a name not registered yet: a TensorFlow-free caller (the config layer, the CLI) can
        #: name a family without importing the families itself.
        self._fills = fills

    def register(self, name: str, *, source: str = "", **defaults) -> Callable:
        """Decorator: register the decorated callable as ``name`` (with ``defaults``)."""

        def add(fn):
            self.add(name, fn, source=source, **defaults)
            return fn

        return add

    def add(self, name: str, fn: Callable, *, source: str = "", **defaults) -> Entry:
        old = self._entries.get(name)
        if old is not None and (old.fn is not fn or old.defaults != defaults):
            raise ValueError(f"{self.kind} {name!r} is registered twice ({old.fn} and {fn})")
        entry = Entry(name, fn, source or (fn.__doc__ or "").strip().split("\n")[0], defaults)
        self._entries[name] = entry
        return entry

    def _fill(self) -> None:
        import importlib

        fills, self._fills = self._fills, ()
        for module in fills:
            importlib.import_module(module)

    def entry(self, name: str) -> Entry:
        if name not in self._entries:
            self._fill()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "none (import gan_repro.catalog first)"
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}; registered {self.kind}s: {known}"
            ) from None

    def get(self, name: str) -> Callable:
        """The registered callable itself (e.g. a family class, to read its ``Config``)."""
        return self.entry(name).fn

    def build(self, name: str, /, **kwargs):
        return self.entry(name).build(**kwargs)

    def build_offered(
        self, name: str, /, offered: dict, options: dict | None = None, required=()
    ) -> Any:
        """Build ``name`` the way a family builds its networks: with the entries of ``offered``
        (what the family knows, e.g. ``image_shape``, ``latent_dim``) that the builder's
        signature takes, then the config's ``options`` for that builder. ``required`` offered
        keys and every option must be parameters of the builder: an option it would ignore is
        refused, naming the parameters it does take (a choice that does nothing is a bug)."""
        entry = self.entry(name)
        params = inspect.signature(entry.fn).parameters
        takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        options = dict(options or {})
        missing = [k for k in (*required, *options) if not takes_all and k not in params]
        if missing:
            raise BadOptionError(
                f"{self.kind} {name!r} does not take {missing}; it takes: {', '.join(params)}"
            )
        kwargs = {k: v for k, v in offered.items() if takes_all or k in params}
        return entry.build(**{**kwargs, **options})

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))


NETWORKS = Registry("network")
FAMILIES = Registry("family", fills=("gan_repro.training",))
DATASETS = Registry("dataset")
EVALUATORS = Registry("evaluator")
FIGURES = Registry("figure")
HOOKS = Registry("hook")
REPORTS = Registry("report section")
