"""Route templates and the router, as the Functions host's ASP.NET routing matches them."""

from __future__ import annotations

import pytest

from devhost.app.loader import HttpFunction
from devhost.http.routes import (
    MethodNotAllowed,
    RouteNotFound,
    Router,
    RouteTemplate,
    RouteTemplateError,
)


def match(template: str, path: str) -> dict[str, str] | None:
    segments = [s for s in path.strip("/").split("/")] if path.strip("/") else []
    return RouteTemplate(template).match(segments)


def test_literal_route_matches_case_insensitively() -> None:
    assert match("Orders/Recent", "orders/RECENT") == {}
    assert match("orders/recent", "orders") is None
    assert match("orders/recent", "orders/recent/extra") is None


def test_parameters_capture_one_segment_each() -> None:
    assert match("orders/{id}/lines/{line}", "orders/42/lines/7") == {"id": "42", "line": "7"}
    assert match("orders/{id}", "orders") is None


def test_optional_parameter_may_be_absent() -> None:
    assert match("orchestrators/{name}/{id?}", "orchestrators/hello") == {"name": "hello"}
    assert match("orchestrators/{name}/{id?}", "orchestrators/hello/abc") == {
        "name": "hello",
        "id": "abc",
    }


def test_default_value_fills_an_absent_parameter() -> None:
    assert match("pages/{page=1}", "pages") == {"page": "1"}
    assert match("pages/{page=1}", "pages/3") == {"page": "3"}


@pytest.mark.parametrize(
    ("template", "value", "matches"),
    [
        ("{id:int}", "42", True),
        ("{id:int}", "-7", True),
        ("{id:int}", "4x", False),
        ("{id:int}", "99999999999", False),  # outside Int32, as ASP.NET's int constraint
        ("{id:long}", "99999999999", True),
        ("{name:alpha}", "Tokyo", True),
        ("{name:alpha}", "Tokyo1", False),
        ("{flag:bool}", "True", True),
        ("{flag:bool}", "yes", False),
        ("{id:guid}", "0f8fad5b-d9cb-469f-a165-70867728950e", True),
        ("{id:guid}", "not-a-guid", False),
        ("{code:length(3)}", "abc", True),
        ("{code:length(3)}", "abcd", False),
        ("{code:minlength(2):maxlength(3)}", "abcd", False),
        ("{n:range(1,5)}", "5", True),
        ("{n:range(1,5)}", "6", False),
        ("{n:int:min(10)}", "9", False),
        ("{code:regex(^[a-z]{{2}}\\d$)}", "ab1", True),
        ("{code:regex(^[a-z]{{2}}\\d$)}", "abc", False),
    ],
)
def test_constraints(template: str, value: str, matches: bool) -> None:
    assert (match(template, value) is not None) is matches


def test_unknown_constraint_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    assert match("{slug:slugify}", "any-value") == {"slug": "any-value"}
    assert "not checked by devhost" in caplog.text


def test_catch_all_takes_the_rest_of_the_path_or_nothing() -> None:
    assert match("files/{*rest}", "files/a/b/c.txt") == {"rest": "a/b/c.txt"}
    assert match("files/{*rest}", "files") == {}


def test_complex_segment_splits_like_aspnet() -> None:
    assert match("{name}.{ext}", "archive.tar.gz") == {"name": "archive.tar", "ext": "gz"}
    assert match("v{version:int}/items", "V2/items") == {"version": "2"}
    assert match("v{version:int}/items", "vx/items") is None


@pytest.mark.parametrize(
    "template", ["a/{*rest}/b", "{id}/{id}", "{bad name}", "a/{unclosed", "a/b}"]
)
def test_invalid_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteTemplateError):
        RouteTemplate(template)


def _fn(name: str, route: str, methods: tuple[str, ...] | None = None) -> HttpFunction:
    return HttpFunction(
        name=name,
        function_id=name,
        route=route,
        methods=methods,
        auth_level="anonymous",
        request_param="req",
    )


def test_router_prefers_literals_then_constrained_then_plain_parameters() -> None:
    router = Router(
        [
            _fn("any", "items/{value}"),
            _fn("number", "items/{id:int}"),
            _fn("special", "items/special"),
            _fn("rest", "items/{*rest}"),
        ],
        "api",
    )
    assert router.resolve("GET", "/api/items/special")[0].name == "special"
    assert router.resolve("GET", "/api/items/12")[0].name == "number"
    assert router.resolve("GET", "/api/items/abc")[0].name == "any"
    assert router.resolve("GET", "/api/items/a/b")[0].name == "rest"


def test_router_prefix_trailing_slash_and_percent_decoding() -> None:
    router = Router([_fn("hello", "hello/{who}")], "api")
    fn, values = router.resolve("GET", "/API/hello/J%C3%BCrgen%2Fx/?q=1")
    assert fn.name == "hello"
    assert values == {"who": "Jürgen/x"}
    with pytest.raises(RouteNotFound):
        router.resolve("GET", "/hello/x")


def test_router_with_empty_prefix_serves_from_the_root() -> None:
    router = Router([_fn("hello", "hello")], "")
    assert router.resolve("GET", "/hello")[0].name == "hello"


def test_router_distinguishes_404_from_405() -> None:
    router = Router([_fn("get_only", "thing", ("GET",)), _fn("put_only", "thing", ("PUT",))], "api")
    assert router.resolve("PUT", "/api/thing")[0].name == "put_only"
    with pytest.raises(MethodNotAllowed) as refused:
        router.resolve("DELETE", "/api/thing")
    assert refused.value.allowed == ["GET", "PUT"]
    with pytest.raises(RouteNotFound):
        router.resolve("GET", "/api/other")
