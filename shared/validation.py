"""Reusable bounds for request input: database ids, offsets and limits, safe texts and codes.

Texts are normalised to NFC and lose bidi and zero-width characters (which could reorder or hide
what a reader sees in a CSV or an email); control characters are refused, except tab and newline
in multi-line texts. Codes are ASCII so that look-alike letters (Cyrillic "Ѕ" for "S") cannot pass.
"""

import re
import unicodedata
from typing import Annotated, Any, ClassVar

from fastapi import Path, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError
from starlette.convertors import Convertor, register_url_convertor

DB_INT_MAX = 2**31 - 1  # PostgreSQL integer
PAGE_LIMIT_MAX = 1000

# -- ids, offsets and limits -------------------------------------------------------------------

DbId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="A record id.")]
QueryId = Annotated[int | None, Query(ge=1, le=DB_INT_MAX, description="A record id.")]
Offset = Annotated[int, Query(ge=0, le=DB_INT_MAX, description="How many items to skip.")]
Limit = Annotated[int, Query(ge=1, le=PAGE_LIMIT_MAX, description="How many items at most.")]
BodyId = Annotated[int, Field(ge=1, le=DB_INT_MAX, strict=True)]  # strict: true is not 1
FiniteFloat = Annotated[float, Field(allow_inf_nan=False, strict=True)]  # ints pass, booleans do not

# -- texts -------------------------------------------------------------------------------------

INVISIBLE = r"\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"  # bidi marks and controls; zero-width
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
_SINGLE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # C0, DEL, C1, lone surrogates
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # the same but tab and newline
ASCII_CODE = r"^[A-Za-z0-9._-]+$"
# What the OpenAPI document tells clients (and schemathesis) about texts; the validators say why.
_SINGLE_LINE_SCHEMA = {"pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"}
_MULTI_LINE_SCHEMA = {"pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"}


def strip_invisible(text: str) -> str:
    """Text without bidi controls and zero-width characters."""
    return _INVISIBLE_RE.sub("", text)


def clean_text(text: str, *, multiline: bool = False) -> str:
    """NFC text without invisible characters; raises ValueError on a control character."""
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = strip_invisible(unicodedata.normalize("NFC", text))
    if bad := (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(text):
        raise PydanticCustomError(
            "control_character", "text contains the control character U+{code}, which is not allowed",
            {"code": f"{ord(bad.group()):04X}"},
        )
    return text


def _single_line(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def _multi_line(value: Any) -> Any:
    return clean_text(value, multiline=True) if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_single_line), Field(json_schema_extra=_SINGLE_LINE_SCHEMA)]
"""One line of text: NFC, no bidi or zero-width characters, no control characters."""
Name = Text
"""A person's, unit's or document's name (one line)."""
MultilineText = Annotated[str, BeforeValidator(_multi_line), Field(json_schema_extra=_MULTI_LINE_SCHEMA)]
"""Free text over several lines (summaries, findings): as Text, but tab and newline are kept."""
Code = Annotated[str, StringConstraints(pattern=ASCII_CODE)]
"""An identifier: ASCII letters, digits, '-', '_' and '.' only."""
QueryText = Annotated[str | None, AfterValidator(lambda v: None if v is None else clean_text(v)),
                      Query(max_length=200, json_schema_extra=_SINGLE_LINE_SCHEMA)]
"""A text filter in a query string."""

# -- partial updates ---------------------------------------------------------------------------


class NotNull:
    """Marks a PATCH field that may be left out but not sent as null (its column is NOT NULL)."""

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The field's JSON schema without its null branch: clients are told null is refused."""
        json_schema = handler(schema)
        branches = [b for b in json_schema.get("anyOf", []) if b != {"type": "null"}]
        if len(branches) == 1 and len(json_schema["anyOf"]) == 2:
            json_schema = {k: v for k, v in json_schema.items() if k != "anyOf"} | branches[0]
        return json_schema


NOT_NULL = NotNull()


class PatchBody(BaseModel):
    """A partial update: fields left out stay as they are; null only where the field is nullable.

    Declare a non-nullable field as `Annotated[T | None, NOT_NULL] = None`.
    """

    _null_message: ClassVar[str] = "may be left out, but not null"

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields[info.field_name or ""]
        if value is None and any(isinstance(m, NotNull) for m in field.metadata):
            raise PydanticCustomError("not_nullable", cls._null_message)
        return value


class IdConvertor(Convertor[int]):
    """`{name:id}` in a route path: any integer, so that a word such as "import" is left to a sibling
    route while a negative or huge id still reaches validation (422), not a bare 404."""

    regex = "-?[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
