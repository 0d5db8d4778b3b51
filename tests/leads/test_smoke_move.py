from collections.abc import Callable

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from tests.factories import walk


def test_sdr_takes_a_new_lead_and_becomes_its_owner(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    assert lead.status == "sdr_processing"
    assert lead.sdr == cast["sdr"]
    assert lead.version == 2
