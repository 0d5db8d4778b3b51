"""Placeholder while the views are written."""

from django.http import HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse(status=501)


templates = template_save = public_brief = brief_send = brief_fill = brief_revoke = _todo
demo_schedule = demo_update = demo_ics = _todo
