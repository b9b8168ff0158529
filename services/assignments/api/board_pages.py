"""A supervisor's pages: the plan board, reports waiting for review, review rounds, inspections."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
