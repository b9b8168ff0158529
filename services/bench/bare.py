"""The bare endpoint the assignments API is compared with: FastAPI, a pydantic body, no database."""

from fastapi import FastAPI
from pydantic import BaseModel, Field


class Report(BaseModel):
    """The shape of a status update, without the project's validation rules."""

    status: str
    progress: int | None = Field(default=None, ge=0, le=100)
    summary: str = ""
    difficulties: str = ""


def create_app() -> FastAPI:
    """One POST route that validates its body and answers 201 with it."""
    app = FastAPI()

    @app.get("/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/assignments/{assignment_id}/updates", status_code=201)
    async def post_update(assignment_id: int, report: Report) -> dict[str, object]:
        return {"assignment_id": assignment_id, **report.model_dump()}

    return app
