"""A unit officer's pages: the unit's assignments, an assignment with its history, the report form,
attachments, the unit's own plan and its review-round report."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
