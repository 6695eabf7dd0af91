"""Static ingredients of the demo store: names, categories, brands, regions."""

from __future__ import annotations

# (category, subcategory, price range in the store currency's major units, cost share,
#  variant axis, variant values)
CATALOG: list[tuple[str, str, tuple[int, int], float, str, tuple[str, ...]]] = [
    ("Apparel", "T-shirts", (59, 199), 0.35, "size", ("S", "M", "L", "XL")),
    ("Apparel", "Hoodies", (199, 499), 0.40, "size", ("S", "M", "L", "XL")),
    ("Apparel", "Jeans", (249, 699), 0.38, "waist", ("28", "30", "32", "34")),
    ("Shoes", "Sneakers", (299, 1299), 0.45, "size", ("39", "40", "41", "42", "43")),
    ("Shoes", "Sandals", (99, 399), 0.40, "size", ("38", "40", "42")),
    ("Home", "Kitchen", (39, 899), 0.50, "colour", ("white", "black")),
    ("Home", "Bedding", (149, 1299), 0.45, "size", ("single", "double", "king")),
    ("Electronics", "Headphones", (199, 2499), 0.62, "colour", ("black", "silver")),
    ("Electronics", "Chargers", (49, 299), 0.55, "type", ("20W", "65W")),
    ("Beauty", "Skincare", (69, 699), 0.30, "size", ("30ml", "50ml")),
    ("Beauty", "Makeup", (59, 399), 0.32, "shade", ("light", "medium", "deep")),
    ("Food", "Tea", (39, 499), 0.48, "weight", ("100g", "250g")),
    ("Food", "Snacks", (19, 129), 0.55, "pack", ("single", "family")),
    ("Sports", "Yoga", (59, 499), 0.42, "colour", ("blue", "grey")),
    ("Sports", "Outdoor", (99, 1599), 0.47, "size", ("M", "L")),
]

BRANDS = [
    "Northwind",
    "Lumen",
    "Harbor & Pine",
    "Qingshan",
    "Atlas Works",
    "Mooncake Co",
    "Bluefin",
    "Sora",
    "Redwood",
    "Peak Form",
    "Jade River",
    "Kite",
]

ADJECTIVES = [
    "Classic",
    "Everyday",
    "Pro",
    "Lite",
    "Urban",
    "Organic",
    "Premium",
    "Cloud",
    "Summit",
    "Essential",
    "Studio",
    "Travel",
]

# (code, name, region, priority)
WAREHOUSES = [
    ("SH1", "Shanghai Qingpu DC", "CN-SH", 10),
    ("BJ1", "Beijing Daxing DC", "CN-BJ", 20),
    ("GZ1", "Guangzhou Baiyun DC", "CN-GD", 20),
]

# (region code, city, weight) — where customers live
REGIONS = [
    ("CN-SH", "Shanghai", 18),
    ("CN-BJ", "Beijing", 15),
    ("CN-GD", "Guangzhou", 14),
    ("CN-ZJ", "Hangzhou", 11),
    ("CN-JS", "Nanjing", 10),
    ("CN-SC", "Chengdu", 9),
    ("CN-HB", "Wuhan", 8),
    ("CN-SN", "Xi'an", 6),
    ("CN-FJ", "Xiamen", 5),
    ("CN-CQ", "Chongqing", 4),
]

# (channel, weight)
CHANNELS = [("app", 40), ("web", 25), ("mini_program", 25), ("marketplace", 7), ("store", 3)]

SURNAMES = [
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Zhao",
    "Huang",
    "Zhou",
    "Wu",
    "Xu",
    "Sun",
    "Hu",
    "Zhu",
    "Gao",
    "Lin",
    "He",
    "Guo",
    "Ma",
    "Luo",
]
GIVEN_NAMES = [
    "Wei",
    "Fang",
    "Na",
    "Min",
    "Jing",
    "Lei",
    "Qiang",
    "Yan",
    "Jie",
    "Tao",
    "Ming",
    "Chao",
    "Xiu",
    "Hui",
    "Lan",
    "Bo",
    "Ying",
    "Hao",
    "Yu",
    "Xin",
]
STREETS = [
    "Nanjing Rd",
    "Huaihai Rd",
    "Chang'an Ave",
    "Tianhe Rd",
    "Wensan Rd",
    "Zhongshan Rd",
    "Renmin Rd",
    "Jiefang Ave",
    "Binjiang Ave",
    "Xueyuan Rd",
]

STAFF = [
    ("owner", "Olivia Owner"),
    ("admin", "Adam Admin"),
    ("ops_manager", "Oscar Ops"),
    ("analyst", "Ana Analyst"),
    ("cs_agent", "Cindy Support"),
    ("warehouse", "Wang Warehouse"),
    ("marketing", "Mia Marketing"),
    ("finance", "Fred Finance"),
]
STAFF_DOMAIN = "demo.shopops.dev"


def staff_password(role: str) -> str:
    return f"demo-{role.replace('_', '-')}-pass"
