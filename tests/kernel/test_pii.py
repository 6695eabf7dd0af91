"""Personal data: AES-GCM at rest, keyed lookup hashes, masks that reveal little."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from shopops.kernel.pii import (
    PiiCipher,
    mask_email,
    mask_name,
    mask_phone,
    mask_text,
    normalize_email,
    normalize_phone,
)

SECRET = "pii-test-secret-0123456789abcdef"
OTHER_SECRET = "another-secret-0123456789abcdef"


@pytest.fixture
def cipher() -> PiiCipher:
    return PiiCipher(SECRET)


class TestEncryption:
    @pytest.mark.parametrize("plaintext", ["ana@example.com", "", "张伟 +86 138 1234 5678"])
    def test_round_trip(self, cipher: PiiCipher, plaintext: str) -> None:
        token = cipher.encrypt(plaintext)
        assert token is not None
        assert plaintext.encode() not in token or plaintext == ""
        assert cipher.decrypt(token) == plaintext
        assert PiiCipher(SECRET).decrypt(token) == plaintext  # same secret, new instance

    def test_none_passes_through(self, cipher: PiiCipher) -> None:
        assert cipher.encrypt(None) is None
        assert cipher.decrypt(None) is None

    def test_ciphertext_differs_per_call(self, cipher: PiiCipher) -> None:
        tokens = {cipher.encrypt("ana@example.com") for _ in range(20)}
        assert len(tokens) == 20

    def test_other_key_cannot_decrypt(self, cipher: PiiCipher) -> None:
        token = cipher.encrypt("ana@example.com")
        with pytest.raises(InvalidTag):
            PiiCipher(OTHER_SECRET).decrypt(token)

    def test_tampering_is_detected(self, cipher: PiiCipher) -> None:
        token = cipher.encrypt("ana@example.com")
        assert token is not None
        tampered = token[:-1] + bytes([token[-1] ^ 1])
        with pytest.raises(InvalidTag):
            cipher.decrypt(tampered)

    def test_unknown_version_refused(self, cipher: PiiCipher) -> None:
        token = cipher.encrypt("x")
        assert token is not None
        with pytest.raises(ValueError, match="version"):
            cipher.decrypt(b"\x02" + token[1:])

    def test_short_secret_refused(self) -> None:
        with pytest.raises(ValueError, match="16"):
            PiiCipher("too-short")

    @given(st.text(max_size=200))
    def test_round_trip_any_text(self, plaintext: str) -> None:
        cipher = PiiCipher(SECRET)
        assert cipher.decrypt(cipher.encrypt(plaintext)) == plaintext


class TestLookupHash:
    def test_deterministic(self, cipher: PiiCipher) -> None:
        assert cipher.lookup_hash("ana@example.com") == cipher.lookup_hash("ana@example.com")
        assert PiiCipher(SECRET).lookup_hash("ana@example.com") == cipher.lookup_hash(
            "ana@example.com"
        )

    def test_key_dependent(self, cipher: PiiCipher) -> None:
        assert cipher.lookup_hash("ana@example.com") != PiiCipher(OTHER_SECRET).lookup_hash(
            "ana@example.com"
        )

    def test_value_dependent_and_not_the_value(self, cipher: PiiCipher) -> None:
        first = cipher.lookup_hash("ana@example.com")
        assert first != cipher.lookup_hash("bob@example.com")
        assert first is not None
        assert "ana" not in first
        assert len(first) == 43  # 32 bytes, base64url without padding

    def test_empty_has_no_hash(self, cipher: PiiCipher) -> None:
        assert cipher.lookup_hash(None) is None
        assert cipher.lookup_hash("") is None


class TestNormalize:
    def test_email(self) -> None:
        assert normalize_email("  Ana@Example.COM ") == "ana@example.com"

    def test_phone(self) -> None:
        assert normalize_phone("+86 138-1234-5678") == "+8613812345678"
        assert normalize_phone("(138) 1234 5678") == "13812345678"


class TestMasks:
    def test_examples(self) -> None:
        assert mask_email("john@example.com") == "j***@example.com"
        assert mask_email("nodomain") == "n***"
        assert mask_phone("13812345678") == "138****5678"
        assert mask_phone("+8613812345678") == "+86****5678"
        assert mask_phone("1234567") == "1******"
        assert mask_phone("12345678") == "****5678"
        assert mask_phone("1234567890") == "12****7890"
        assert mask_name("Ana Lima") == "A** L***"
        assert mask_name("Li") == "L*"
        assert mask_name("X") == "X*"
        assert mask_text("Room 401, Building 7") == "Ro***"

    @pytest.mark.parametrize("mask", [mask_email, mask_phone, mask_name, mask_text])
    def test_empty_values_pass_through(self, mask) -> None:
        assert mask(None) is None
        assert mask("") == ""

    @given(
        local=st.text(st.characters(blacklist_characters="@"), min_size=1, max_size=40),
        domain=st.text(min_size=1, max_size=40),
    )
    def test_email_reveals_first_character_and_domain_only(self, local: str, domain: str) -> None:
        masked = mask_email(f"{local}@{domain}")
        assert masked == f"{local[0]}***@{domain}"

    @given(st.text(alphabet="0123456789+- ", min_size=1, max_size=30))
    def test_phone_reveals_at_most_seven_characters(self, phone: str) -> None:
        masked = mask_phone(phone)
        assert masked is not None
        if len(phone) <= 7:
            assert masked == phone[0] + "*" * (len(phone) - 1)
            return
        head, _, tail = masked.partition("****")
        assert phone.startswith(head)
        assert phone.endswith(tail)
        assert len(head) <= 3
        assert len(tail) <= 4
        # What stays hidden is never less than what the stars stand for.
        assert len(phone) - len(head) - len(tail) >= 4

    @given(
        st.lists(st.text(st.characters(blacklist_categories=["Zs", "Cc"]), min_size=1), max_size=5)
    )
    def test_name_reveals_one_character_per_word(self, words: list[str]) -> None:
        name = " ".join(words)
        masked = mask_name(name)
        if not name:
            assert masked == name
            return
        assert masked is not None
        parts = name.split()
        masked_parts = masked.split(" ")
        assert len(masked_parts) == len(parts)
        for part, masked_part in zip(parts, masked_parts, strict=True):
            assert masked_part[0] == part[0]
            assert set(masked_part[1:]) == {"*"}
