"""Placeholder: replaced by the area's views (issue 6)."""

from django.http import HttpRequest, HttpResponse


def board(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
