"""The one error tree: stable codes, field errors gathered before raising once."""

from __future__ import annotations

import pytest

from shopops.kernel.errors import (
    Conflict,
    DomainError,
    FieldError,
    FieldErrorCollector,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unprocessable,
    ValidationFailed,
)


@pytest.mark.parametrize(
    ("error_type", "code"),
    [
        (DomainError, "error"),
        (ValidationFailed, "validation.failed"),
        (NotFound, "not_found"),
        (Conflict, "conflict"),
        (InvalidTransition, "state.invalid_transition"),
        (Unauthenticated, "auth.unauthenticated"),
        (PermissionDenied, "auth.permission_denied"),
        (RateLimited, "auth.rate_limited"),
        (Unprocessable, "unprocessable"),
    ],
)
def test_default_codes(error_type: type[DomainError], code: str) -> None:
    error = error_type()
    assert error.code == code
    assert error.message == code  # the message falls back to the code
    assert str(error) == code
    assert error.errors == []
    assert error.details == {}
    assert isinstance(error, DomainError)


def test_explicit_code_message_and_details() -> None:
    error = NotFound("catalog.product_not_found", "product 7 does not exist", details={"id": 7})
    assert error.code == "catalog.product_not_found"
    assert error.message == "product 7 does not exist"
    assert str(error) == "product 7 does not exist"
    assert error.details == {"id": 7}


def test_invalid_transition_is_a_conflict() -> None:
    assert issubclass(InvalidTransition, Conflict)
    assert not issubclass(Conflict, ValidationFailed)


def test_errors_and_details_are_copied() -> None:
    items = [FieldError("name", "validation.required", "required")]
    details = {"a": 1}
    error = ValidationFailed(errors=items, details=details)
    items.append(FieldError("x", "y", "z"))
    details["b"] = 2
    assert len(error.errors) == 1
    assert error.details == {"a": 1}


def test_field_error_as_dict() -> None:
    assert FieldError("sku", "validation.required", "required").as_dict() == {
        "field": "sku",
        "code": "validation.required",
        "message": "required",
    }
    assert FieldError("sku", "validation.required", "required", row=3).as_dict() == {
        "field": "sku",
        "code": "validation.required",
        "message": "required",
        "row": 3,
    }


def test_collector_raises_once_with_every_error() -> None:
    errors = FieldErrorCollector()
    assert not errors
    errors.raise_if_any()  # nothing collected: no error
    errors.add("email", "validation.invalid_email", "not an e-mail")
    errors.add("price", "money.too_precise", "too many decimals", row=4)
    assert errors
    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any()
    assert caught.value.code == "validation.failed"
    assert caught.value.message == "2 invalid field(s)"
    assert [e.as_dict() for e in caught.value.errors] == [
        {"field": "email", "code": "validation.invalid_email", "message": "not an e-mail"},
        {"field": "price", "code": "money.too_precise", "message": "too many decimals", "row": 4},
    ]


def test_collector_custom_code_and_message() -> None:
    errors = FieldErrorCollector()
    errors.add("file", "import.bad_header", "bad header")
    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any("import.invalid_file", "the file has errors")
    assert caught.value.code == "import.invalid_file"
    assert caught.value.message == "the file has errors"
