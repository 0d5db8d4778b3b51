"""Two tabs submit the same brief at the same moment: one is saved, the other is told the
brief was already filled in; one fill event, one move, one notification.

Each thread has its own database connection, on whichever database the suite runs (file
SQLite or PostgreSQL); a barrier releases the submissions of a round together.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.notify.models import Notification
from leadrelay.presale import briefs
from tests.presale.conftest import SEO_ANSWERS

TABS = 4
ROUNDS = 5


def submit_together(token: str) -> list[str]:
    """Every tab submits at once; what each was told ("ok" or the error's code)."""
    results: list[str] = []
    barrier = threading.Barrier(TABS)
    lock = threading.Lock()

    def tab(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            answers = {**SEO_ANSWERS, "queries": f"tab {index}"}
            try:
                briefs.fill_by_client(token, answers)
                outcome = "ok"
            except briefs.BriefLinkError as exc:
                outcome = exc.code
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(i,)) for i in range(TABS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_saves_the_brief_once(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    for _round in range(ROUNDS):
        lead = discussion_lead()
        brief, _url = briefs.send_brief(cast["sales"], lead.pk)

        results = submit_together(briefs.token_for(brief))

        assert Counter(results) == {"ok": 1, "link_used": TABS - 1}
        brief.refresh_from_db()
        assert brief.values["queries"].startswith("tab ")
        lead.refresh_from_db()
        assert lead.status == "brief_filled"
        assert LeadEvent.objects.filter(lead=lead, kind="brief", data__action="filled").count() == 1
        assert LeadEvent.objects.filter(lead=lead, to_status="brief_filled").count() == 1
        assert Notification.objects.filter(lead=lead, kind="brief_filled").count() == 1
