"""Functions-host route templates: ``/{routePrefix}/{route}`` to a function, as ASP.NET routes.

Case-insensitive literals, ``{name}``, ``{name?}``, ``{name=default}``, constraints such as
``{id:int}``, catch-all ``{*rest}``, literal-before-parameter precedence: an app's URLs are the same
as under ``func start``.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from devhost.app.loader import HttpFunction

log = logging.getLogger("devhost.http")

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")


class RouteTemplateError(ValueError):
    """A route template the Functions host would also reject at start-up."""


# -- route templates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One ``{...}`` route parameter."""

    name: str
    constraints: tuple[tuple[str, str | None], ...] = ()
    optional: bool = False
    default: str | None = None
    catch_all: bool = False


Part = str | Param


@dataclass(frozen=True)
class Segment:
    """A path segment: literal text and parameters (more than one part = a complex segment)."""

    parts: tuple[Part, ...]

    @property
    def param(self) -> Param | None:
        """The parameter when the segment is exactly one parameter."""
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, Param) else None

    def rank(self) -> int:
        """ASP.NET inbound precedence digit: literal < complex < constrained < plain < catch-all."""
        param = self.param
        if param is None:
            return 1 if all(isinstance(p, str) for p in self.parts) else 2
        if param.catch_all:
            return 5
        return 3 if param.constraints else 4


def _split_outside(text: str, separator: str, brackets: str) -> list[str]:
    """Split on ``separator`` where it is not inside ``brackets`` (an opening and a closing)."""
    opening, closing = brackets
    parts, depth, current = [], 0, []
    for char in text:
        depth += (char == opening) - (char == closing)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _parse_param(body: str, template: str) -> Param:
    catch_all = body.startswith("*")
    body = body.lstrip("*")
    optional = body.endswith("?")
    if optional:
        body = body[:-1]
    pieces = _split_outside(body, "=", "()")
    default = "=".join(pieces[1:]) if len(pieces) > 1 else None
    name, *constraint_texts = _split_outside(pieces[0], ":", "()")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise RouteTemplateError(f"route '{template}': invalid parameter name '{name}'")
    constraints = []
    for text in constraint_texts:
        match = re.fullmatch(r"([A-Za-z]+)(?:\((.*)\))?", text, re.DOTALL)
        if match is None:
            raise RouteTemplateError(f"route '{template}': invalid constraint '{text}'")
        constraints.append((match.group(1).lower(), match.group(2)))
    return Param(name, tuple(constraints), optional, default, catch_all)


def _parse_segment(text: str, template: str) -> Segment:
    parts: list[Part] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("{{", i) or text.startswith("}}", i):
            literal.append(char)
            i += 2
            continue
        if char == "}":
            raise RouteTemplateError(f"route '{template}': unmatched '}}'")
        if char != "{":
            literal.append(char)
            i += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        body: list[str] = []
        i += 1
        while True:
            if i >= len(text):
                raise RouteTemplateError(f"route '{template}': unclosed '{{'")
            if text.startswith("}}", i) or text.startswith("{{", i):
                body.append(text[i])
                i += 2
            elif text[i] == "}":
                i += 1
                break
            else:
                body.append(text[i])
                i += 1
        parts.append(_parse_param("".join(body), template))
    if literal:
        parts.append("".join(literal))
    return Segment(tuple(parts))


class RouteTemplate:
    """A parsed Functions route template that matches decoded path segments."""

    def __init__(self, template: str) -> None:
        self.template = template
        text = template.strip()
        text = text[2:] if text.startswith("~/") else text
        text = text.strip("/")
        self.segments = [_parse_segment(s, template) for s in _split_outside(text, "/", "{}")]
        if text == "":
            self.segments = []
        self._validate()
        self._complex = {
            index: _complex_regex(segment)
            for index, segment in enumerate(self.segments)
            if segment.param is None and any(isinstance(p, Param) for p in segment.parts)
        }
        for segment in self.segments:
            for part in segment.parts:
                if isinstance(part, Param):
                    for constraint, _ in part.constraints:
                        if constraint not in _CONSTRAINTS:
                            log.warning(
                                "route '%s': constraint '%s' is not checked by devhost",
                                template,
                                constraint,
                            )

    def _validate(self) -> None:
        names: set[str] = set()
        for index, segment in enumerate(self.segments):
            for part in segment.parts:
                if not isinstance(part, Param):
                    continue
                if part.name.lower() in names:
                    raise RouteTemplateError(
                        f"route '{self.template}': parameter '{part.name}' appears twice"
                    )
                names.add(part.name.lower())
                if part.catch_all and (index != len(self.segments) - 1 or segment.param is None):
                    raise RouteTemplateError(
                        f"route '{self.template}': a catch-all must be the whole last segment"
                    )

    def precedence(self) -> tuple[int, ...]:
        return tuple(segment.rank() for segment in self.segments)

    def match(self, path: list[str]) -> dict[str, str] | None:
        """Route values for ``path`` (decoded segments), or None if the template does not match."""
        values: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            param = segment.param
            if param is not None and param.catch_all:
                rest = "/".join(path[index:])
                if rest:
                    values[param.name] = rest
                elif param.default is not None:
                    values[param.name] = param.default
                return values if _constraints_hold(param, values) else None
            if index >= len(path):
                if not self._fill_missing(self.segments[index:], values):
                    return None
                return values
            if not self._match_segment(index, segment, path[index], values):
                return None
        return values if len(path) == len(self.segments) else None

    def _match_segment(
        self, index: int, segment: Segment, text: str, values: dict[str, str]
    ) -> bool:
        param = segment.param
        if param is not None:
            if text == "":
                return False
            values[param.name] = text
            return _constraints_hold(param, values)
        if index not in self._complex:
            return text.casefold() == "".join(segment.parts).casefold()  # type: ignore[arg-type]
        match = self._complex[index].fullmatch(text)
        if match is None:
            return False
        for part, value in zip(
            (p for p in segment.parts if isinstance(p, Param)), match.groups(), strict=True
        ):
            values[part.name] = value
            if not _constraints_hold(part, values):
                return False
        return True

    @staticmethod
    def _fill_missing(segments: Iterable[Segment], values: dict[str, str]) -> bool:
        """Absent trailing segments must be optional, defaulted or catch-all parameters."""
        for segment in segments:
            param = segment.param
            if param is None or not (param.optional or param.catch_all or param.default):
                return False
            if param.default is not None:
                values[param.name] = param.default
        return True


def _complex_regex(segment: Segment) -> re.Pattern[str]:
    pattern = "".join(
        "(.+)" if isinstance(part, Param) else re.escape(part) for part in segment.parts
    )
    return re.compile(pattern, re.IGNORECASE | re.DOTALL)


def _is_int(value: str, bits: int) -> bool:
    if not re.fullmatch(r"[+-]?\d+", value.strip()):
        return False
    return -(2 ** (bits - 1)) <= int(value) < 2 ** (bits - 1)


def _parses(parse: Callable[[str], object], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _is_float(value: str) -> bool:
    return _parses(float, value)


def _is_guid(value: str) -> bool:
    return _parses(uuid.UUID, value)


def _is_datetime(value: str) -> bool:
    return _parses(datetime.fromisoformat, value)


def _numbers(args: str | None) -> list[float]:
    return [float(a) for a in (args or "").split(",") if a.strip()]


def _length_ok(value: str, args: str | None) -> bool:
    bounds = _numbers(args)
    if len(bounds) == 1:
        return len(value) == bounds[0]
    return bounds[0] <= len(value) <= bounds[1]


_CONSTRAINTS: dict[str, Callable[[str, str | None], bool]] = {
    "int": lambda v, _: _is_int(v, 32),
    "long": lambda v, _: _is_int(v, 64),
    "alpha": lambda v, _: re.fullmatch(r"[A-Za-z]+", v) is not None,
    "bool": lambda v, _: v.strip().lower() in ("true", "false"),
    "guid": lambda v, _: _is_guid(v),
    "datetime": lambda v, _: _is_datetime(v),
    "decimal": lambda v, _: _is_float(v),
    "double": lambda v, _: _is_float(v),
    "float": lambda v, _: _is_float(v),
    "minlength": lambda v, a: len(v) >= _numbers(a)[0],
    "maxlength": lambda v, a: len(v) <= _numbers(a)[0],
    "length": _length_ok,
    "min": lambda v, a: _is_int(v, 64) and int(v) >= _numbers(a)[0],
    "max": lambda v, a: _is_int(v, 64) and int(v) <= _numbers(a)[0],
    "range": lambda v, a: _is_int(v, 64) and _numbers(a)[0] <= int(v) <= _numbers(a)[1],
    "regex": lambda v, a: re.search(a or "", v, re.IGNORECASE) is not None,
}


def _constraints_hold(param: Param, values: dict[str, str]) -> bool:
    value = values.get(param.name)
    if value is None:
        return True
    for name, args in param.constraints:
        check = _CONSTRAINTS.get(name)
        try:
            if check is not None and not check(value, args):
                return False
        except (ValueError, IndexError, re.error):
            return False
    return True


# -- routing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    function: HttpFunction
    template: RouteTemplate
    order: int

    def allows(self, method: str) -> bool:
        return self.function.methods is None or method.upper() in self.function.methods


class RouteNotFound(Exception):
    """No function's route matches the path."""


class MethodNotAllowed(Exception):
    """A route matches the path but not the method; ``allowed`` lists what would."""

    def __init__(self, allowed: list[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = allowed


class Router:
    """Resolves ``/{routePrefix}/{route}`` to a function, most specific template first."""

    def __init__(self, functions: Iterable[HttpFunction], route_prefix: str) -> None:
        self.prefix = [s.casefold() for s in route_prefix.strip("/").split("/") if s]
        routes = [Route(fn, RouteTemplate(fn.route), order) for order, fn in enumerate(functions)]
        self.routes = sorted(routes, key=lambda r: (r.template.precedence(), r.order))

    def path_segments(self, raw_path: str) -> list[str] | None:
        """Decoded segments after the prefix (None when outside it); a trailing '/' is ignored."""
        raw = raw_path.split("?", 1)[0].strip("/")
        segments = [unquote(s) for s in raw.split("/")] if raw else []
        if [s.casefold() for s in segments[: len(self.prefix)]] != self.prefix:
            return None
        return segments[len(self.prefix) :]

    def resolve(self, method: str, raw_path: str) -> tuple[HttpFunction, dict[str, str]]:
        segments = self.path_segments(raw_path)
        if segments is None:
            raise RouteNotFound(raw_path)
        allowed: list[str] = []
        for route in self.routes:
            values = route.template.match(segments)
            if values is None:
                continue
            if route.allows(method):
                return route.function, values
            allowed.extend(m for m in route.function.methods or ALL_METHODS if m not in allowed)
        if allowed:
            raise MethodNotAllowed(allowed)
        raise RouteNotFound(raw_path)
