"""Ten SDRs click "claim" on the same request at the same moment: one gets it, nine are
told who did.

Real HTTP: each thread is its own client with its own token, talking over a socket to a
live server that answers each request in its own thread with its own database
connection, on whichever database the suite runs (file SQLite or PostgreSQL). A barrier
releases all ten requests of a round together.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from leadrelay.accounts.models import ApiToken, User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import NewLead, create_lead
from tests.conftest import T0

THREADS = 10  # Django's live server queues up to 10 connections at once
ROUNDS = 25


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


def claim_over_http(base_url: str, token: str, lead_id: int) -> Answer:
    request = urllib.request.Request(
        f"{base_url}/api/v1/leads/{lead_id}/claim",
        method="POST",
        data=b"",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Answer(response.status, json.loads(response.read()))
    except urllib.error.HTTPError as error:
        return Answer(error.code, json.loads(error.read()))


def race(base_url: str, tokens: list[str], leads: list[Lead]) -> list[list[Answer | None]]:
    """Every thread claims each lead in turn, all threads released together per lead."""
    answers: list[list[Answer | None]] = [[None] * len(tokens) for _ in leads]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(tokens))

    def run(index: int) -> None:
        try:
            for round_, lead in enumerate(leads):
                barrier.wait(timeout=120)
                answers[round_][index] = claim_over_http(base_url, tokens[index], lead.pk)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()  # release the others instead of leaving them waiting

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return answers


@pytest.mark.django_db(transaction=True)
def test_ten_sdrs_claiming_one_request_over_http_leave_one_owner(live_server: Any) -> None:
    sdrs = [
        User.objects.create_user(
            f"sdr{i}", password=None, role=Role.SDR, first_name="SDR", last_name=f"Number {i}"
        )
        for i in range(THREADS)
    ]
    tokens = [ApiToken.issue(sdr)[1] for sdr in sdrs]
    leads = [create_lead(NewLead(name=f"Race {i}", received_at=T0), now=T0) for i in range(ROUNDS)]

    answers = race(live_server.url, tokens, leads)

    for lead, round_ in zip(leads, answers, strict=True):
        assert all(a is not None for a in round_)
        statuses = Counter(a.status for a in round_ if a)
        assert statuses == {200: 1, 409: THREADS - 1}, (lead.pk, round_)
        winner = next(i for i, a in enumerate(round_) if a and a.status == 200)
        won = round_[winner]
        assert won is not None and won.body["sdr"]["id"] == sdrs[winner].pk
        for answer in round_:
            if answer is None or answer.status != 409:
                continue
            assert answer.body["code"] == "already_taken"
            assert answer.body["owner"] == {"id": sdrs[winner].pk, "name": f"SDR Number {winner}"}
            assert answer.body["message"] == f"Already taken by SDR Number {winner}."
        stored = Lead.objects.get(pk=lead.pk)
        assert (stored.status, stored.sdr_id, stored.version) == (
            "sdr_processing",
            sdrs[winner].pk,
            2,
        )
    # One claim per request in the history, nothing from the losers.
    claims = LeadEvent.objects.filter(lead__in=leads, kind="status", to_status="sdr_processing")
    assert Counter(claims.values_list("lead_id", flat=True)) == {lead.pk: 1 for lead in leads}
    assert not LeadEvent.objects.filter(lead__in=leads, kind="owner").exists()
