"""The whole chain with every app a subprocess and every device emulated (issue 10, build item 3).

A citizen passes the pre-check at the kiosk and gets a printed ticket; the clerk of window 1 logs in on the
call keypad and calls it; the display puts it on the hall LED board and queues the announcement; the
window strip shows it; the rating pad rates it; the manager's statistics count it. A failed pre-check
prints the 一次性告知单 and issues no ticket. One hall (server, counter, display) serves both tests; each
starts its own kiosk, whose hidden `--autopilot` taps through one citizen on the real widgets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from drivers.protocols import KeyCode
from hallq.demohall import CLERK_PIN, clerk_code
from tests.e2e.support import DISPLAY, HallRun, running_hall

pytestmark = pytest.mark.slow

#: 户口迁入登记: one question (in person?) and three required papers; series A, served at window 1.
MATTER = "HJ01"


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallRun]:
    with running_hall(tmp_path_factory.mktemp("hall")) as running:
        yield running


def ticket_count(hall: HallRun) -> int:
    return int(hall.query("SELECT COUNT(*) FROM tickets")[0][0])


def test_a_ticket_from_the_kiosk_is_called_shown_rated_and_counted(hall: HallRun) -> None:
    matter = hall.config.matter_by_code[MATTER]
    w = hall.window
    staff = clerk_code(w)
    with hall.explain():
        # The kiosk: pre-check passed, the ticket printed with its number, matter and status QR.
        before = len(hall.papers())
        hall.kiosk(MATTER)
        hall.wait_for(lambda: len(hall.papers()) > before, "the kiosk's ticket", 60, also=("kiosk",))
        paper = hall.papers()[before]
        number = re.search(rf"(?m)^\s*({matter.series}\d{{3}})\s*$", paper.text)
        assert number is not None, paper.text
        label = number.group(1)
        assert matter.name in paper.text
        assert len(paper.qr) == 1, paper.qr
        assert paper.qr[0].startswith(f"{hall.url}/s/"), paper.qr
        assert "一次性告知单" not in paper.text
        hall.wait_for(
            lambda: hall.query("SELECT state FROM tickets WHERE label = ?", (label,)) == [("waiting",)],
            f"{label} to be waiting (print confirmed)",
        )
        hall.stop("kiosk")

        # The clerk logs in on the keypad (staff code * PIN): the window opens, the strip welcomes.
        hall.window_bus.press(hall.keypad, KeyCode.LOGIN, f"{staff}*{CLERK_PIN}")
        welcome = hall.config.led.welcome
        hall.wait_for(lambda: hall.strip_text() == welcome, f"the strip to say {welcome}")

        # NEXT calls it: the window strip, the hall LED board and the display's voice queue have it.
        hall.window_bus.press(hall.keypad, KeyCode.NEXT)
        calling = hall.config.led.calling.format(number=label, window=w)
        hall.wait_for(lambda: hall.strip_text() == calling, f"the strip to show {calling}")
        hall.wait_for(lambda: hall.board_text(1) == calling, f"the hall board to show {calling}")
        hall.wait_for(
            lambda: f"voice: queued '{calling}" in hall.log_text(DISPLAY),
            "the display to queue the announcement",
        )
        hall.wait_for(hall.spoken.exists, "the display's speaker to play it")

        # NEXT starts serving; NEXT again finishes (and calls the next, of whom there is none), and the
        # rating pad asks the citizen, who presses 5 (非常满意).
        hall.window_bus.press(hall.keypad, KeyCode.NEXT)
        hall.wait_for(lambda: hall.strip_text().startswith(f"{label} "), f"the strip to show {label} served")
        hall.window_bus.press(hall.keypad, KeyCode.NEXT)
        hall.wait_for(lambda: hall.pad_pending() == label, f"the rating pad to ask about {label}")
        hall.rate(5)
        rating = (
            "SELECT r.score, r.source, r.staff FROM ratings r JOIN tickets t ON t.id = r.ticket"
            " WHERE t.label = ?"
        )
        hall.wait_for(lambda: hall.query(rating, (label,)) != [], f"the rating of {label} to be stored")
        assert hall.query(rating, (label,)) == [(5, "pad", staff)]
        assert hall.query("SELECT state, window FROM tickets WHERE label = ?", (label,)) == [("done", w)]

        # The manager's statistics for today count it as served and rated 非常满意.
        rows = {r["key"]: r for r in hall.statistics()["按matter"]}
        row = rows[MATTER]
        assert (row["办结数"], row["评价数"], row["非常满意"]) == ("1", "1", "1"), row
        assert int(rows[""]["办结数"]) >= 1


def test_a_failed_precheck_prints_the_notice_and_issues_no_ticket(hall: HallRun) -> None:
    question = hall.config.matter_by_code[MATTER].precheck.questions[0]
    with hall.explain():
        tickets, papers = ticket_count(hall), len(hall.papers())
        hall.kiosk(MATTER, answer="no")
        hall.wait_for(lambda: len(hall.papers()) > papers, "the kiosk's 一次性告知单", 60, also=("kiosk",))
        notice = hall.papers()[papers]
        assert "一次性告知单" in notice.text
        assert question.fail_reason in notice.text.replace("\n", "")
        assert notice.qr == ()
        hall.stop("kiosk")
        assert len(hall.papers()) == papers + 1
        assert ticket_count(hall) == tickets
        outcomes = {r["结果"]: int(r["次数"]) for r in hall.statistics()["预审"]}
        assert outcomes.get("不通过", 0) >= 1, outcomes
