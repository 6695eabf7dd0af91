"""The demo store's shipping table: standard delivery with a free-over threshold, and
express. The demo ships within China (its customers' regions); standard also ships
abroad. Gold and platinum members ship free (their loyalty tier's benefit, applied by
order placement).

Amounts are whole major units of the store currency, like the campaigns'.
"""

from __future__ import annotations

from shopops.bootstrap import Container
from shopops.contexts import shipping
from shopops.kernel.events import Actor
from shopops.kernel.money import to_major, to_minor

SEEDER = Actor.system("demo-seed")

# code, name, sort order, rates as (country, region, fee, free over)
METHODS: tuple[tuple[str, str, int, tuple[tuple[str, str | None, int, int | None], ...]], ...] = (
    (
        "standard",
        "Standard (2-4 days)",
        0,
        (("CN", None, 10, 99), ("*", None, 80, None)),
    ),
    (
        "express",
        "Express (next day)",
        10,
        (("CN", None, 20, None), ("CN", "CN-SH", 15, None)),
    ),
)


def seed_shipping(container: Container) -> list[shipping.Method]:
    """Create the demo's shipping methods with their rates."""
    currency = container.settings.default_currency

    def money(major: int) -> str:
        return str(to_major(to_minor(major, currency), currency))

    with container.uow(SEEDER) as uow:
        made = [
            shipping.create_method(
                uow,
                shipping.CreateShippingMethod(
                    code,
                    name,
                    sort_order=order,
                    rates=tuple(
                        shipping.RateInput(
                            country,
                            money(fee),
                            region=region,
                            free_over=None if free_over is None else money(free_over),
                        )
                        for country, region, fee, free_over in rates
                    ),
                ),
            )
            for code, name, order, rates in METHODS
        ]
        uow.commit()
    return made
