"""Placeholder: replaced by the area's views (issue 6)."""

from django.http import HttpRequest, HttpResponse


def queue(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)


def settings_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=501)
