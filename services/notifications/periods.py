"""Reporting periods of ongoing tasks in Vietnamese words."""

from datetime import date

from services.notifications.rendering import period_vi as label_vi
from shared.due import period_label
from shared.vietnamese import REPORTING_PERIOD_LABELS


def every_vi(period: str) -> str:
    """How often: "hằng quý"."""
    return REPORTING_PERIOD_LABELS.get(period, period)


def period_vi(period: str, day: date) -> str:
    """The period holding `day`: "tháng 11/2026", "quý IV/2026", "6 tháng cuối năm 2026", "năm 2026"."""
    return label_vi(period_label(period, day))
