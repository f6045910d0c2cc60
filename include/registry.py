"""The store registry: which N11 stores exist and how each is set up.

Read from ``include/stores.yaml`` (or the file named by ``N11_STORES_FILE``) when the DAG file is parsed;
it is the only thing read at import. Each entry is validated on its own against the settings schema
(``include.settings``), so one broken entry, whatever its value or size, costs only that store: its error,
naming the store and the field and at most ``MAX_MESSAGE`` characters long, is returned beside the valid
stores. What every store depends on (the file itself, its ``stores:`` list, its ``defaults:``) is a
``RegistryError``; the DAG file shows it as one error DAG (``load_registry_or_error``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ConfigDict, Field, ValidationError, create_model
from yaml.constructor import SafeConstructor

from include.settings import (
    FIELDS,
    REQUIRED,
    SLUG,
    TIMEZONE,
    Refusal,
    StoreConfig,
    bounded,
    listed,
    shown,
)

__all__ = ["TIMEZONE", "EntryError", "Registry", "RegistryError", "StoreConfig", "load_registry",
           "load_registry_or_error", "parse_store"]

DEFAULT_FILE = Path(__file__).with_name("stores.yaml")
MAX_FILE_BYTES = 10_000_000  # 500 stores take about 100 kB
PER_STORE = ("slug", "name", "n11_conn_id")  # what is one store's own: never a default


class RegistryError(ValueError):
    """The registry file as a whole cannot be used."""


@dataclass(frozen=True)
class EntryError:
    """A registry entry (or, with ``index`` None, the whole file) that could not be used; ``message`` names
    the store, the field and the value."""

    index: int | None  # 1-based position in the file; None: the file itself
    slug: str | None  # None when the slug itself is missing or malformed
    message: str

    @property
    def dag_id(self) -> str:
        if self.index is None:
            return "n11_registry_error"
        return f"n11_registry_error_{self.index}" + (f"_{self.slug}" if self.slug else "")


@dataclass
class Registry:
    stores: list[StoreConfig] = field(default_factory=list)
    errors: list[EntryError] = field(default_factory=list)


class _Loader(yaml.CSafeLoader):
    """Safe YAML that leaves dates and over-long integers as text, so the schema refuses them per entry
    (PyYAML would fail the whole file on ``2026-02-30``). Aliases are kept: they share one object, so even
    an alias bomb loads small, and messages render values with the bounded ``shown``."""


def _int_or_text(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:  # more digits than Python converts
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)
_Loader.add_constructor("tag:yaml.org,2002:int", _int_or_text)

@cache
def _defaults_schema() -> type:
    """The defaults section: every field but a store's own, all optional, validated by the same types (built
    on first use: most registries have no defaults, and building costs milliseconds of every parse)."""
    return create_model(
        "RegistryDefaults", __config__=ConfigDict(extra="forbid"),
        **{name: (info.rebuild_annotation(), Field(default=None, description=info.description))
           for name, info in StoreConfig.__pydantic_fields__.items() if name not in PER_STORE},
    )


def registry_path() -> Path:
    return Path(os.environ.get("N11_STORES_FILE") or DEFAULT_FILE)


def load_registry(path: Path | None = None) -> Registry:
    """Read and validate the registry; a broken entry lands in ``errors``, the rest in ``stores``."""
    path = path or registry_path()
    entries, defaults = _read(path)
    registry = Registry()
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        slug = _slug(entry)
        label = f"store {slug!r} (entry {index})" if slug else f"entry {index}"
        try:
            store = parse_store({**defaults, **entry} if isinstance(entry, dict) else entry)
            if store.slug in seen:
                raise ValueError(f"slug {store.slug!r} is used by an earlier entry; slugs must be unique")
        except ValueError as exc:
            registry.errors.append(EntryError(index, slug, bounded(f"{label}: {exc} (in {path})")))
            continue
        seen.add(store.slug)
        registry.stores.append(store)
    return registry


def load_registry_or_error(path: Path | None = None) -> Registry:
    """The registry, or one error standing for the whole file: the DAG file always yields DAGs that say
    what to fix, never an import error."""
    try:
        return load_registry(path)
    except RegistryError as exc:
        return Registry(errors=[EntryError(None, None, str(exc))])


def parse_store(entry: Any) -> StoreConfig:
    """Validate one registry entry; the error names the field and the value found."""
    if not isinstance(entry, dict):
        raise ValueError(f"an entry must be a mapping of settings, got {shown(entry)}")
    unknown = [name for name in entry if name not in FIELDS]
    if unknown:
        raise ValueError(f"unknown field(s) {listed(unknown)}; known: {', '.join(FIELDS)}")
    missing = [name for name in REQUIRED if name not in entry]
    if missing:
        raise ValueError(f"field {missing[0]!r} is required")
    try:
        return StoreConfig(**entry)
    except ValidationError as exc:
        raise ValueError(Refusal.of(exc).in_registry()) from None


def _read(path: Path) -> tuple[list[Any], dict[str, Any]]:
    """The file's store entries and its validated defaults."""

    def fail(problem: str) -> RegistryError:
        return RegistryError(bounded(f"store registry {path} {problem}"))

    try:
        too_big = path.stat().st_size > MAX_FILE_BYTES
        document = None if too_big else yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, yaml.YAMLError, ValueError, RecursionError) as exc:
        raise fail(f"cannot be read: {' '.join(str(exc).split())}") from None  # one line
    if too_big:
        raise fail(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB")
    entries = document.get("stores") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise fail("must hold a 'stores:' list")
    defaults = document.get("defaults")
    if defaults is None:
        return entries, {}
    if not isinstance(defaults, dict):
        raise fail(f"has 'defaults' that is not a mapping of settings, got {shown(defaults)}; it applies to "
                   "every store, so no store is built until it is fixed")
    schema = _defaults_schema()
    unknown = [name for name in defaults if name not in schema.model_fields]
    if unknown:
        raise fail(f"has 'defaults' with field(s) {listed(unknown)}: unknown, or one store's own "
                   f"({', '.join(PER_STORE)})")
    try:
        schema(**defaults)
    except ValidationError as exc:
        raise fail(f"has 'defaults' whose {Refusal.of(exc).in_registry()}; it applies to every store, so no "
                   "store is built until it is fixed") from None
    return entries, defaults


def _slug(entry: Any) -> str | None:
    slug = entry.get("slug") if isinstance(entry, dict) else None
    return slug if isinstance(slug, str) and SLUG.fullmatch(slug) else None
