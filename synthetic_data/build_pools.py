"""Rebuild ``names/name_pools.json`` from Faker (maintainer tool, not used at generation time).

    python -m synthetic_data.build_pools

Faker is slow (tens of microseconds a name) and its name tables change between releases, so
the generator never calls it: the pools are drawn here once, seeded, and frozen in a JSON file
that ships with the package. That keeps generation fast and the same seed giving the same data
on any machine, whatever Faker version is installed. Each pool stores the distinct names of
``DRAWS`` Faker draws with their counts, so Faker's own frequency weighting is kept.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from synthetic_data.cultures import CULTURES, Culture

__all__ = ["POOLS_PATH", "build_pools", "main"]

POOLS_PATH = Path(__file__).parent / "names" / "name_pools.json"
DRAWS = 3000
_CURATED = {"AR", "FA"}  # built from synthetic_data.names.curated, not Faker

# Real relative frequencies where Faker draws uniformly from a short list.
_VN_FAMILY = {"Nguyễn": 38, "Trần": 11, "Lê": 9.5, "Phạm": 7, "Hoàng": 5.1, "Vũ": 3.9,
              "Phan": 4.5, "Huỳnh": 4.1, "Võ": 3.9, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.4,
              "Hồ": 1.3, "Ngô": 1.3, "Dương": 1.0, "Lý": 0.5, "Mai": 0.5}
_VN_MIDDLE_M = {"Văn": 40, "Đức": 10, "Minh": 10, "Quang": 8, "Hữu": 8, "Công": 6,
                "Thành": 6, "Ngọc": 4, "Xuân": 4, "Anh": 4}
_VN_MIDDLE_F = {"Thị": 50, "Ngọc": 10, "Thu": 8, "Thanh": 8, "Kim": 6, "Minh": 5, "Mai": 5,
                "Hồng": 5, "Phương": 3}
# Common Indian / Nepali middle names (Kumar, Bahadur, Prasad, Kumari, Devi).
_SOUTH_ASIAN_MIDDLE = {
    "IN": ({"कुमार": 50, "सिंह": 15, "प्रसाद": 10, "लाल": 5}, {"कुमारी": 40, "देवी": 30}),
    "NP": ({"बहादुर": 50, "प्रसाद": 20, "कुमार": 15, "राज": 5}, {"कुमारी": 45, "देवी": 25}),
}


def _fakers(c: Culture, salt: int) -> list[tuple[object, int]]:
    """One seeded Faker per source locale with its share of the draws."""
    from faker import Faker  # maintainer-time dependency only

    out = []
    for i, (locale, share) in enumerate(c.faker_locales):
        fake = Faker(locale)
        fake.seed_instance(10_000 * salt + 100 * i + sum(map(ord, c.code)))
        out.append((fake, round(DRAWS * share)))
    return out


def _plausible(name: str) -> bool:
    """Letters, combining marks, joiners and a few separators; not shouted (ЛЕА-МАРИЯ) and
    not Faker's broken entries (N˜zamett˜n)."""
    if not name or (len(name) > 2 and name.isupper()):
        return False
    return all(unicodedata.category(ch)[0] in "LM" or ch in " -'.ʼ’\u200c\u200d"
               for ch in name)


def _draw(c: Culture, salt: int, method: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for fake, n in _fakers(c, salt):
        draw: Callable[[], str] = getattr(fake, method)
        for _ in range(n):
            name = " ".join(draw().split())
            if _plausible(name):
                counts[name] += 1
    return counts


def _weighted(table: dict[str, float]) -> Counter[str]:
    return Counter({k: max(1, round(v * 100)) for k, v in table.items()})


def _pool(counts: Counter[str]) -> list[list[object]]:
    """Distinct names, most frequent first (ties by name, so the file is stable)."""
    return [[n, k] for n, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _bg_patronymic(father: str, female: bool) -> str:
    stem = father
    if stem.endswith("й"):
        stem = stem[:-1] + "е"
    elif stem[-1] in "аояеиъ":
        stem = stem[:-1]
    suffix = "ев" if stem.endswith(("е", "ж", "ч", "ш", "щ", "ц")) else "ов"
    if stem.endswith("е"):
        stem, suffix = stem[:-1], "ев"
    return stem + suffix + ("а" if female else "")


def _chinese_given(c: Culture, salt: int, method: str) -> Counter[str]:
    """Faker's zh_CN given names are mostly one character; real ones are mostly two."""
    singles = _draw(c, salt, method)
    names = sorted(singles.elements())
    out: Counter[str] = Counter()
    for i, name in enumerate(names):
        if len(name) == 1 and i % 5 < 3:
            out[name + names[(i * 7919 + 13) % len(names)][:1]] += 1
        else:
            out[name] += 1
    return out


def _japanese(c: Culture, salt: int, method: str, kana: dict[str, str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for fake, n in _fakers(c, salt):
        for _ in range(n):
            native, reading, _roman = getattr(fake, method)()
            counts[native] += 1
            kana.setdefault(native, reading)
    return counts


def _culture_pools(c: Culture) -> dict[str, object]:
    pools: dict[str, object] = {}
    kana: dict[str, str] = {}
    if c.code == "JP":
        pools["given_m"] = _pool(_japanese(c, 1, "first_name_male_pair", kana))
        pools["given_f"] = _pool(_japanese(c, 2, "first_name_female_pair", kana))
        pools["family_m"] = _pool(_japanese(c, 3, "last_name_pair", kana))
        pools["kana"] = dict(sorted(kana.items()))
    elif c.code == "CN":
        pools["given_m"] = _pool(_chinese_given(c, 1, "first_name_male"))
        pools["given_f"] = _pool(_chinese_given(c, 2, "first_name_female"))
        pools["family_m"] = _pool(_draw(c, 3, "last_name"))
    else:
        pools["given_m"] = _pool(_draw(c, 1, "first_name_male"))
        pools["given_f"] = _pool(_draw(c, 2, "first_name_female"))
        if c.code in ("RU", "UA", "BG"):
            pools["family_m"] = _pool(_draw(c, 3, "last_name_male"))
            pools["family_f"] = _pool(_draw(c, 4, "last_name_female"))
        elif c.code == "VN":
            pools["family_m"] = _pool(_weighted(_VN_FAMILY))
        else:
            pools["family_m"] = _pool(_draw(c, 3, "last_name"))
    pools.setdefault("family_f", "family_m")
    pools.update(_middle_pools(c, pools))
    return pools


def _middle_pools(c: Culture, pools: dict[str, object]) -> dict[str, object]:
    if c.code in ("RU", "UA"):
        return {"middle_m": _pool(_draw(c, 5, "middle_name_male")),
                "middle_f": _pool(_draw(c, 6, "middle_name_female"))}
    if c.code == "BG":
        fathers: Counter[str] = _draw(c, 5, "first_name_male")
        male, female = Counter(), Counter()
        for name, k in fathers.items():
            if len(name) > 2 and "-" not in name and " " not in name:
                male[_bg_patronymic(name, False)] += k
                female[_bg_patronymic(name, True)] += k
        return {"middle_m": _pool(male), "middle_f": _pool(female)}
    if c.code == "VN":
        return {"middle_m": _pool(_weighted(_VN_MIDDLE_M)),
                "middle_f": _pool(_weighted(_VN_MIDDLE_F))}
    if c.code in _SOUTH_ASIAN_MIDDLE:
        special_m, special_f = _SOUTH_ASIAN_MIDDLE[c.code]
        out = {}
        for key, special in (("m", special_m), ("f", special_f)):
            mix = Counter({n: k for n, k in pools[f"given_{key}"]})  # type: ignore[misc]
            total = sum(mix.values())
            mix.update({n: round(total * w / 60) for n, w in special.items()})
            out[f"middle_{key}"] = _pool(mix)
        return out
    return {"middle_m": "given_m", "middle_f": "given_f"}


def build_pools() -> dict[str, object]:
    import faker

    cultures = {c.code: _culture_pools(c) for c in CULTURES if c.code not in _CURATED}
    return {"format": 1, "faker_version": faker.VERSION, "draws": DRAWS, "cultures": cultures}


def main() -> int:
    data = build_pools()
    POOLS_PATH.parent.mkdir(parents=True, exist_ok=True)
    POOLS_PATH.write_text(
        json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )
    print(f"wrote {POOLS_PATH} ({POOLS_PATH.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
