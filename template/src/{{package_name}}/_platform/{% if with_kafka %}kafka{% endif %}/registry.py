# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""Binding of event types to typed handlers.

    registry = HandlerRegistry()

    @registry.handler("widget.created")
    async def on_widget_created(event: WidgetCreated, widgets: WidgetRepository) -> None: ...

The first parameter is the payload model (a pydantic model the payload is validated into);
every other parameter is resolved by its type from the DI container, in one request scope
per message (a parameter typed `Envelope` receives the envelope). The decorator returns the
function unchanged, so unit tests call it directly with fakes.
"""

import inspect
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

HandlerFunc = Callable[..., Awaitable[None]]
F = TypeVar("F", bound=HandlerFunc)


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    event_type: str
    func: HandlerFunc
    payload_model: type[BaseModel]
    dependencies: Mapping[str, Any]


class HandlerRegistry:
    """Event type -> handler; at most one handler per event type."""

    def __init__(self) -> None:
        self._handlers: dict[str, HandlerSpec] = {}

    def handler(self, event_type: str) -> Callable[[F], F]:
        def register(func: F) -> F:
            self.add(event_type, func)
            return func

        return register

    def add(self, event_type: str, func: HandlerFunc) -> HandlerSpec:
        if event_type in self._handlers:
            msg = f"event type {event_type!r} already has a handler"
            raise ValueError(msg)
        if not inspect.iscoroutinefunction(func):
            msg = f"handler for {event_type!r} must be an async function"
            raise TypeError(msg)
        hints = typing.get_type_hints(func)
        names = list(inspect.signature(func).parameters)
        if not names or names[0] not in hints:
            msg = f"handler for {event_type!r} needs a first parameter typed with its payload model"
            raise TypeError(msg)
        model = hints[names[0]]
        if not (inspect.isclass(model) and issubclass(model, BaseModel)):
            msg = f"first parameter of the {event_type!r} handler must be a pydantic model"
            raise TypeError(msg)
        missing = [name for name in names[1:] if name not in hints]
        if missing:
            msg = f"handler for {event_type!r}: parameters {missing} need type annotations"
            raise TypeError(msg)
        spec = HandlerSpec(event_type, func, model, {name: hints[name] for name in names[1:]})
        self._handlers[event_type] = spec
        return spec

    def get(self, event_type: str) -> HandlerSpec | None:
        return self._handlers.get(event_type)

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self._handlers)
