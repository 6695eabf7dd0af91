"""The demo store charges shipping: standard with a free-over threshold, and express."""

from __future__ import annotations

from shopops.bootstrap import Container
from shopops.contexts import shipping
from shopops.demo.shipping import SEEDER, seed_shipping
from shopops.kernel.money import to_minor


def test_the_demo_seeds_standard_and_express_shipping(container: Container) -> None:
    seed_shipping(container)
    currency = container.settings.default_currency
    with container.uow(SEEDER) as uow:
        table = shipping.list_methods(uow)
        assert [(m.code, m.is_active) for m in table] == [("standard", True), ("express", True)]
        standard = table[0].rates[0]
        assert (standard.country, standard.fee_minor, standard.free_over_minor) == (
            "CN",
            to_minor(10, currency),
            to_minor(99, currency),
        )

        def fee(method: str, region: str | None, subtotal: int) -> int:
            command = shipping.QuoteShipping(method, "CN", region, str(subtotal))
            return shipping.quote(uow, command).fee_minor

        assert fee("standard", "CN-BJ", 98) == to_minor(10, currency)
        assert fee("standard", "CN-BJ", 99) == 0
        assert fee("express", "CN-BJ", 500) == to_minor(20, currency)
        assert fee("express", "CN-SH", 500) == to_minor(15, currency)
