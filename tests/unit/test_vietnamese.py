"""Vietnamese wording: document date lines (Nghị định 30/2020/NĐ-CP), labels, local time."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.vietnamese import VIETNAM_TZ, date_line, local_date, local_time, short_date, status_label


def test_date_line_example_from_a_real_plan() -> None:
    assert date_line("Trà Vinh", date(2021, 12, 15)) == "Trà Vinh, ngày 15 tháng 12 năm 2021"


@pytest.mark.parametrize(("day", "expected"), [
    (date(2022, 1, 5), "ngày 05 tháng 01 năm 2022"),   # day < 10 and January: both padded
    (date(2022, 2, 28), "ngày 28 tháng 02 năm 2022"),  # February padded
    (date(2022, 3, 9), "ngày 09 tháng 3 năm 2022"),    # March onwards: no leading zero
    (date(2022, 9, 10), "ngày 10 tháng 9 năm 2022"),
    (date(2022, 10, 1), "ngày 01 tháng 10 năm 2022"),
    (date(2022, 11, 30), "ngày 30 tháng 11 năm 2022"),
])
def test_date_line_leading_zeros(day: date, expected: str) -> None:
    assert date_line("Trà Vinh", day) == f"Trà Vinh, {expected}"


def test_date_line_without_place_is_capitalised() -> None:
    assert date_line("", date(2022, 1, 5)) == "Ngày 05 tháng 01 năm 2022"


def test_short_date() -> None:
    assert short_date(date(2022, 3, 1)) == "01/03/2022"
    assert short_date(None) == ""


def test_status_label() -> None:
    assert status_label("in_progress") == "Đang thực hiện"
    assert status_label("completed") == "Đã hoàn thành"
    assert status_label("not_started") == "Chưa triển khai"
    assert status_label("something_new") == "something_new"


def test_local_time_naive_is_utc() -> None:
    local = local_time(datetime(2021, 12, 14, 18, 30))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2021, 12, 15, 1, 30)
    assert local.utcoffset() == timedelta(hours=7)
    assert str(local.tzinfo) == VIETNAM_TZ == "Asia/Ho_Chi_Minh"


def test_local_time_aware() -> None:
    moment = datetime(2021, 12, 14, 18, 30, tzinfo=UTC)
    assert local_time(moment) == moment  # same instant
    assert local_time(moment).date() == date(2021, 12, 15)  # but the Vietnamese calendar day
    other = datetime(2021, 12, 15, 2, 30, tzinfo=timezone(timedelta(hours=2)))
    assert local_time(other).hour == 7


def test_local_date_is_the_vietnamese_calendar_day() -> None:
    assert local_date(datetime(2022, 3, 31, 16, 59, tzinfo=UTC)) == date(2022, 3, 31)  # 23:59 in Trà Vinh
    assert local_date(datetime(2022, 3, 31, 17, 0, tzinfo=UTC)) == date(2022, 4, 1)    # midnight in Trà Vinh
    assert local_date(datetime(2022, 3, 31, 18, 30)) == date(2022, 4, 1)               # naive means UTC
    now = local_time(datetime.now(UTC))
    assert local_date() in {now.date(), (now + timedelta(seconds=5)).date()}
