"""An admin's pages: importing and publishing a plan, units, officials and their tokens."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
