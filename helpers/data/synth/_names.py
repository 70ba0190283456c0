"""Place names of the synthetic city: Chinese characters and their pinyin."""
from __future__ import annotations

import numpy as np

#: (name_zh stem, pinyin stem, zone) of the twelve districts, in id order.
DISTRICTS: tuple[tuple[str, str, str], ...] = (
    ("东城", "Dongcheng", "core"),
    ("西城", "Xicheng", "core"),
    ("中山", "Zhongshan", "core"),
    ("北湖", "Beihu", "inner_suburb"),
    ("河东", "Hedong", "inner_suburb"),
    ("南岭", "Nanling", "inner_suburb"),
    ("新华", "Xinhua", "inner_suburb"),
    ("青山", "Qingshan", "outer_county"),
    ("白云", "Baiyun", "outer_county"),
    ("清河", "Qinghe", "outer_county"),
    ("桃源", "Taoyuan", "outer_county"),
    ("永安", "Yong'an", "outer_county"),
)

# First and second syllables of generic place names (character, pinyin).
_FIRST = (
    ("新", "xin"), ("东", "dong"), ("西", "xi"), ("南", "nan"), ("北", "bei"), ("中", "zhong"),
    ("长", "chang"), ("永", "yong"), ("安", "an"), ("和", "he"), ("兴", "xing"), ("华", "hua"),
    ("金", "jin"), ("银", "yin"), ("青", "qing"), ("白", "bai"), ("红", "hong"), ("龙", "long"),
    ("凤", "feng"), ("福", "fu"), ("康", "kang"), ("宁", "ning"), ("平", "ping"), ("文", "wen"),
    ("光", "guang"), ("明", "ming"), ("春", "chun"), ("秋", "qiu"), ("松", "song"), ("柳", "liu"),
    ("桃", "tao"), ("梅", "mei"), ("兰", "lan"), ("竹", "zhu"), ("桂", "gui"), ("杨", "yang"),
    ("石", "shi"), ("高", "gao"), ("泰", "tai"), ("盛", "sheng"), ("嘉", "jia"), ("瑞", "rui"),
    ("德", "de"), ("仁", "ren"), ("惠", "hui"), ("翠", "cui"), ("幸", "xing"), ("胜", "sheng"),
)
_SECOND = (
    ("华", "hua"), ("安", "an"), ("平", "ping"), ("和", "he"), ("兴", "xing"), ("园", "yuan"),
    ("山", "shan"), ("河", "he"), ("湖", "hu"), ("桥", "qiao"), ("林", "lin"), ("泉", "quan"),
    ("庄", "zhuang"), ("门", "men"), ("阳", "yang"), ("城", "cheng"), ("丰", "feng"), ("宁", "ning"),
    ("乐", "le"), ("康", "kang"), ("福", "fu"), ("田", "tian"), ("塘", "tang"), ("坊", "fang"),
    ("湾", "wan"), ("岭", "ling"), ("港", "gang"), ("溪", "xi"), ("洲", "zhou"), ("营", "ying"),
    ("店", "dian"), ("屯", "tun"), ("堡", "bao"), ("苑", "yuan"), ("坪", "ping"), ("利", "li"),
)

SUFFIX = {
    "district": ("区", "District"),
    "county": ("县", "County"),
    "street": ("街道", "Subdistrict"),
    "town": ("镇", "Town"),
    "township": ("乡", "Township"),
    "community": ("社区", "Community"),
    "village": ("村", "Village"),
}


def _join(a: str, b: str) -> str:
    sep = "'" if b[0] in "aoe" else ""
    return (a + sep + b).capitalize()


def _pool() -> list[tuple[str, str]]:
    out = []
    for zh1, py1 in _FIRST:
        for zh2, py2 in _SECOND:
            if zh1 != zh2:
                out.append((zh1 + zh2, _join(py1, py2)))
    return out


POOL: list[tuple[str, str]] = _pool()


def draw_stems(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[tuple[str, str]]:
    """``n`` (zh, pinyin) stems, unique in characters and in pinyin (and not in ``taken``)."""
    taken = set(taken or ())
    order = rng.permutation(len(POOL))
    out: list[tuple[str, str]] = []
    for i in order:
        zh, py = POOL[i]
        if zh in taken or py in taken:
            continue
        taken.update((zh, py))
        out.append((zh, py))
        if len(out) == n:
            return out
    raise ValueError(f"not enough names for {n}")


def full_name(stem: tuple[str, str], kind: str) -> tuple[str, str]:
    """(name_en, name_zh) of a stem with the suffix of its kind."""
    zh_suf, en_suf = SUFFIX[kind]
    return f"{stem[1]} {en_suf}", stem[0] + zh_suf
