"""Only for `make bench` (BENCH_MODE=1): the floor view, the cheapest page this server and
these settings can serve, and a header counting each response's database queries.
Neither exists otherwise: the URL is not mounted and the middleware is not installed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """A minimal Django view rendering a one-line template: the framework's floor."""
    return render(request, "bench_floor.html")


class QueryCountMiddleware:
    """Adds X-DB-Queries: the number of SQL statements run while handling the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = 0

        def counter(execute: Callable[..., Any], *args: Any) -> Any:
            nonlocal count
            count += 1
            return execute(*args)

        with connections["default"].execute_wrapper(counter):
            response = self.get_response(request)
        response["X-DB-Queries"] = str(count)
        return response
