"""The SLA attainment report page: for the heads of marketing and sales and administrators.

The numbers come from ``leadrelay.sla.report``; this only reads the filters and renders.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.sla.models import ClockKind
from leadrelay.sla.report import BREACH_LIMIT, attainment, period
from leadrelay.web.forms import SlaReportForm
from leadrelay.web.views import _user

REPORT_ROLES = frozenset({Role.ADMIN, Role.HEAD_MARKETING, Role.HEAD_SALES})


def may_see_report(user: User) -> bool:
    return user.is_superuser or user.role in REPORT_ROLES


@login_required
@require_GET
def sla_report(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not may_see_report(user):
        raise PermissionDenied(_("Only the heads of departments and administrators see this."))
    form = SlaReportForm(request.GET)
    context = {"nav": "sla", "form": form, "kinds": ClockKind.choices, "limit": BREACH_LIMIT}
    if not form.is_valid():
        return render(request, "web/sla/report.html", context, status=400)
    data = form.cleaned_data
    start, end = period(data["start"], data["end"])
    context.update(
        report=attainment(data["kind"], start, end),
        start=data["start"],
        end=data["end"],
        kind=data["kind"],
        kind_label=ClockKind(data["kind"]).label,
    )
    return render(request, "web/sla/report.html", context)
