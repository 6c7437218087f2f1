"""Romanisation of Chinese, Japanese and Korean names.

* Chinese: Hanyu Pinyin per character (anyascii's readings), given names joined (Jianguo);
  variants split or hyphenate the syllables (Jian Guo, Jian-Guo) or use Wade-Giles
  (Chien-kuo); common surnames also have their Wade-Giles and Cantonese forms (Zhang, Chang,
  Cheung).
* Japanese: from the kana reading (the kanji alone do not give the reading): passport
  Hepburn without long vowels (Sato, Ryosuke) and what records show besides: wapuro
  (Satou), oh (Satoh), macrons (Satō) and Kunrei (Syunsuke for Shunsuke).
* Korean: Revised Romanisation per syllable (Minsu, Min-su, Min Su), popular spellings
  (Minsoo, Jung for Jeong) and the surnames' usual passport forms (Lee, Park, Choi).
"""

from __future__ import annotations

import re

from anyascii import anyascii

__all__ = [
    "romanise_han", "romanise_hangul", "romanise_kana", "variants_han", "variants_hangul",
    "variants_kana",
]

# --- Chinese -----------------------------------------------------------------------------

_HAN_SURNAMES: dict[str, tuple[str, ...]] = {
    "王": ("Wang", "Wong"), "李": ("Li", "Lee"), "张": ("Zhang", "Chang", "Cheung"),
    "刘": ("Liu", "Lau", "Lao"), "陈": ("Chen", "Chan", "Tan"), "杨": ("Yang", "Yeung"),
    "黄": ("Huang", "Wong", "Hwang"), "赵": ("Zhao", "Chao", "Chiu"), "吴": ("Wu", "Ng", "Woo"),
    "周": ("Zhou", "Chou", "Chow"), "徐": ("Xu", "Hsu", "Tsui"), "孙": ("Sun", "Suen"),
    "马": ("Ma", "Mah"), "朱": ("Zhu", "Chu", "Chu"), "胡": ("Hu", "Wu", "Hoo"),
    "郭": ("Guo", "Kuo", "Kwok"), "何": ("He", "Ho"), "高": ("Gao", "Kao", "Ko"),
    "林": ("Lin", "Lam", "Lim"), "罗": ("Luo", "Lo", "Law"), "郑": ("Zheng", "Cheng", "Chang"),
    "梁": ("Liang", "Leung"), "谢": ("Xie", "Hsieh", "Tse"), "宋": ("Song", "Sung"),
    "唐": ("Tang", "Tong"), "许": ("Xu", "Hsu", "Hui"), "韩": ("Han", "Hon"),
    "冯": ("Feng", "Fung"), "邓": ("Deng", "Teng", "Tang"), "曹": ("Cao", "Tsao", "Cho"),
    "彭": ("Peng", "Pang"), "曾": ("Zeng", "Tseng", "Tsang"), "萧": ("Xiao", "Hsiao", "Siu"),
    "田": ("Tian", "Tien"), "董": ("Dong", "Tung"), "袁": ("Yuan", "Yuen"),
    "潘": ("Pan", "Poon"), "蒋": ("Jiang", "Chiang"), "蔡": ("Cai", "Tsai", "Choi"),
    "余": ("Yu", "Yue"), "杜": ("Du", "Tu", "To"), "叶": ("Ye", "Yeh", "Yip"),
    "苏": ("Su", "Soo"), "魏": ("Wei", "Ngai"), "吕": ("Lyu", "Lu", "Lui", "Lv"),
    "丁": ("Ding", "Ting"), "任": ("Ren", "Jen", "Yam"), "沈": ("Shen", "Shum"),
    "姚": ("Yao", "Yiu"), "卢": ("Lu", "Lo"), "崔": ("Cui", "Tsui", "Choi"),
    "钟": ("Zhong", "Chung"), "谭": ("Tan", "Tam"), "陆": ("Lu", "Luk"),
    "汪": ("Wang", "Wong"), "金": ("Jin", "Kam", "Chin"), "石": ("Shi", "Shih", "Shek"),
    "廖": ("Liao", "Liu"), "贾": ("Jia", "Chia"), "夏": ("Xia", "Hsia", "Ha"),
    "方": ("Fang", "Fong"), "白": ("Bai", "Pai", "Pak"), "邹": ("Zou", "Tsou", "Chau"),
    "熊": ("Xiong", "Hsiung", "Hung"), "秦": ("Qin", "Chin", "Chun"),
    "邱": ("Qiu", "Chiu", "Yau"), "江": ("Jiang", "Chiang", "Kong"), "顾": ("Gu", "Ku", "Koo"),
    "龚": ("Gong", "Kung"), "钱": ("Qian", "Chien", "Chin"), "严": ("Yan", "Yen", "Yim"),
    "孔": ("Kong", "Kung", "Hung"), "谷": ("Gu", "Ku"), "申": ("Shen", "Sun"),
}

# Pinyin -> Wade-Giles, enough for the shape of a name (apostrophes dropped, as records do).
_WG_INITIALS = (("zh", "ch"), ("ch", "ch"), ("sh", "sh"), ("b", "p"), ("p", "p"), ("d", "t"),
                ("t", "t"), ("g", "k"), ("k", "k"), ("j", "ch"), ("q", "ch"), ("x", "hs"),
                ("z", "ts"), ("c", "ts"), ("r", "j"))
_WG_FINALS = (("ong", "ung"), ("ian", "ien"), ("ie", "ieh"), ("you", "yu"), ("ui", "uei"))


def _han_syllables(text: str) -> list[str]:
    return [anyascii(ch).strip().lower() for ch in text if not ch.isspace() and anyascii(ch)]


def _wade_giles(syllable: str) -> str:
    for py, wg in _WG_INITIALS:
        if syllable.startswith(py):
            syllable = wg + syllable[len(py):]
            break
    for py, wg in _WG_FINALS:
        if syllable.endswith(py):
            syllable = syllable[: -len(py)] + wg
            break
    return syllable


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def romanise_han(text: str, *, surname: bool = False) -> str:
    if surname and text in _HAN_SURNAMES:
        return _HAN_SURNAMES[text][0]
    return _cap("".join(_han_syllables(text)))


def variants_han(text: str, *, surname: bool = False) -> tuple[str, ...]:
    syl = _han_syllables(text)
    forms = [romanise_han(text, surname=surname)]
    if surname and text in _HAN_SURNAMES:
        forms.extend(_HAN_SURNAMES[text][1:])
    elif len(syl) > 1:
        forms.append(" ".join(_cap(s) for s in syl))
        forms.append("-".join(_cap(s) for s in syl[:1]) + "-" + "-".join(syl[1:]))
        forms.append(_cap(_wade_giles(syl[0])) + "-" + "-".join(_wade_giles(s) for s in syl[1:]))
    elif syl:
        forms.append(_cap(_wade_giles(syl[0])))
    return tuple(dict.fromkeys(f for f in forms if f))


# --- Japanese ----------------------------------------------------------------------------

_KANA = {
    "ア": "a", "イ": "i", "ウ": "u", "エ": "e", "オ": "o", "カ": "ka", "キ": "ki", "ク": "ku",
    "ケ": "ke", "コ": "ko", "ガ": "ga", "ギ": "gi", "グ": "gu", "ゲ": "ge", "ゴ": "go",
    "サ": "sa", "シ": "shi", "ス": "su", "セ": "se", "ソ": "so", "ザ": "za", "ジ": "ji",
    "ズ": "zu", "ゼ": "ze", "ゾ": "zo", "タ": "ta", "チ": "chi", "ツ": "tsu", "テ": "te",
    "ト": "to", "ダ": "da", "ヂ": "ji", "ヅ": "zu", "デ": "de", "ド": "do", "ナ": "na",
    "ニ": "ni", "ヌ": "nu", "ネ": "ne", "ノ": "no", "ハ": "ha", "ヒ": "hi", "フ": "fu",
    "ヘ": "he", "ホ": "ho", "バ": "ba", "ビ": "bi", "ブ": "bu", "ベ": "be", "ボ": "bo",
    "パ": "pa", "ピ": "pi", "プ": "pu", "ペ": "pe", "ポ": "po", "マ": "ma", "ミ": "mi",
    "ム": "mu", "メ": "me", "モ": "mo", "ヤ": "ya", "ユ": "yu", "ヨ": "yo", "ラ": "ra",
    "リ": "ri", "ル": "ru", "レ": "re", "ロ": "ro", "ワ": "wa", "ヲ": "o", "ン": "n",
    "ヴ": "vu", "ァ": "a", "ィ": "i", "ゥ": "u", "ェ": "e", "ォ": "o",
}
_SMALL_Y = {"ャ": "a", "ュ": "u", "ョ": "o"}
_KUNREI = (("shi", "si"), ("chi", "ti"), ("tsu", "tu"), ("fu", "hu"), ("ji", "zi"),
           ("sh", "sy"), ("ch", "ty"), ("j", "zy"))


def _katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def _wapuro(kana: str) -> str:
    """Kana -> romaji keeping long vowels as written (Satou, Yuuki, Ryousuke)."""
    out: list[str] = []
    double_next = False
    for ch in _katakana(kana):
        if ch == "ッ":
            double_next = True
            continue
        if ch == "ー":
            if out:
                out.append(out[-1][-1])
            continue
        if ch in _SMALL_Y and out:
            prev = out.pop()
            stem = prev[:-1]
            out.append(stem + _SMALL_Y[ch] if stem.endswith(("sh", "ch", "j")) else
                       stem + "y" + _SMALL_Y[ch])
            continue
        roman = _KANA.get(ch, anyascii(ch).lower())
        if double_next and roman:
            roman = ("t" if roman.startswith("ch") else roman[0]) + roman
            double_next = False
        out.append(roman)
    return "".join(out)


def _hepburn_passport(wapuro: str) -> str:
    text = re.sub(r"ou|oo", "o", wapuro)
    text = re.sub(r"uu", "u", text)
    return re.sub(r"n(?=[bmp])", "m", text)


def romanise_kana(kana: str) -> str:
    return _cap(_hepburn_passport(_wapuro(kana)))


def variants_kana(kana: str) -> tuple[str, ...]:
    wapuro = _wapuro(kana)
    passport = _hepburn_passport(wapuro)
    forms = [
        passport,
        wapuro,
        re.sub(r"o(?=u|o)[uo]", "oh", wapuro),
        re.sub(r"ou|oo", "ō", re.sub(r"uu", "ū", wapuro)),
        re.sub(r"n(?=[bmp])", "n", passport) if re.search(r"m(?=[bp])", passport) else passport,
    ]
    kunrei = passport
    for hep, kun in _KUNREI:
        kunrei = kunrei.replace(hep, kun)
    forms.append(kunrei)
    return tuple(dict.fromkeys(_cap(f) for f in forms if f))


# --- Korean ------------------------------------------------------------------------------

_INITIAL = ("g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch",
            "k", "t", "p", "h")
_MEDIAL = ("a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u",
           "wo", "we", "wi", "yu", "eu", "ui", "i")
_FINAL = ("", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m",
          "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t")
_KO_SURNAMES: dict[str, tuple[str, ...]] = {
    "김": ("Kim", "Gim"), "이": ("Lee", "Yi", "Rhee", "I"), "박": ("Park", "Pak", "Bak"),
    "최": ("Choi", "Choe", "Chey"), "정": ("Jung", "Jeong", "Chung"), "강": ("Kang", "Gang"),
    "조": ("Cho", "Jo", "Joe"), "윤": ("Yoon", "Yun"), "장": ("Jang", "Chang"),
    "임": ("Lim", "Im", "Rim"), "한": ("Han",), "오": ("Oh", "O"), "서": ("Seo", "Suh"),
    "신": ("Shin", "Sin"), "권": ("Kwon", "Gwon"), "황": ("Hwang",), "안": ("Ahn", "An"),
    "송": ("Song",), "류": ("Ryu", "Yoo", "Yu"), "유": ("Yoo", "Yu"), "홍": ("Hong",),
    "전": ("Jeon", "Jun", "Chun"), "고": ("Ko", "Go"), "문": ("Moon", "Mun"),
    "양": ("Yang",), "손": ("Son", "Sohn"), "배": ("Bae", "Pae"), "백": ("Baek", "Paik"),
    "허": ("Heo", "Hur", "Huh"), "남": ("Nam",), "노": ("Noh", "Roh", "No"), "하": ("Ha",),
    "곽": ("Kwak", "Gwak"), "성": ("Sung", "Seong"), "차": ("Cha",), "주": ("Joo", "Ju"),
    "우": ("Woo", "U"), "구": ("Koo", "Gu"), "민": ("Min",), "나": ("Na", "Ra"),
    "진": ("Jin", "Chin"), "지": ("Ji", "Chi"), "엄": ("Eom", "Um"), "채": ("Chae",),
    "원": ("Won",), "천": ("Cheon", "Chun"), "방": ("Bang",), "공": ("Kong", "Gong"),
    "현": ("Hyun", "Hyeon"), "변": ("Byun", "Byeon"), "염": ("Yeom",), "여": ("Yeo", "Yuh"),
    "추": ("Choo", "Chu"), "도": ("Do", "Doh"), "석": ("Seok", "Suk"), "선": ("Sun", "Seon"),
    "설": ("Seol", "Sul"), "마": ("Ma",), "길": ("Gil", "Kil"), "연": ("Yeon", "Yun"),
    "표": ("Pyo",), "명": ("Myung", "Myeong"), "기": ("Ki", "Gi"), "반": ("Ban",),
    "왕": ("Wang",), "금": ("Geum", "Keum"), "옥": ("Ok",), "육": ("Yuk", "Yook"),
    "인": ("In",), "맹": ("Maeng",), "제": ("Je",), "모": ("Mo",), "탁": ("Tak",),
    "국": ("Kook", "Guk"), "예": ("Ye",), "경": ("Kyung", "Gyeong"), "봉": ("Bong",),
    "심": ("Shim", "Sim"), "남궁": ("Namgung", "Namkoong"), "황보": ("Hwangbo",),
    "선우": ("Sunwoo", "Seonu"), "제갈": ("Jegal",), "독고": ("Dokgo",),
}
_KO_POPULAR = ((r"eo", "u"), (r"(?<!e)u", "oo"))
_KO_MR_INITIALS = (("g", "k"), ("b", "p"), ("d", "t"), ("j", "ch"))


def _hangul_syllables(text: str) -> list[str]:
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            ini, med, fin = code // 588, (code % 588) // 28, code % 28
            out.append(_INITIAL[ini] + _MEDIAL[med] + _FINAL[fin])
        elif not ch.isspace():
            out.append(anyascii(ch).lower())
    return out


def romanise_hangul(text: str, *, surname: bool = False) -> str:
    if surname and text in _KO_SURNAMES:
        return _KO_SURNAMES[text][0]
    return _cap("".join(_hangul_syllables(text)))


def _popular(syllable: str) -> str:
    for pattern, pop in _KO_POPULAR:
        changed = re.sub(pattern, pop, syllable, count=1)
        if changed != syllable:
            return changed
    return syllable


def variants_hangul(text: str, *, surname: bool = False) -> tuple[str, ...]:
    if surname and text in _KO_SURNAMES:
        return _KO_SURNAMES[text]
    syl = _hangul_syllables(text)
    forms = [romanise_hangul(text)]
    if len(syl) > 1:
        forms.append(_cap(syl[0]) + "-" + "".join(syl[1:]))
        forms.append(" ".join(_cap(s) for s in syl))
        forms.append(_cap("".join(_popular(s) for s in syl)))
        first = syl[0]
        for rr, mr in _KO_MR_INITIALS:
            if first.startswith(rr):
                forms.append(_cap(mr + first[len(rr):] + "".join(syl[1:])))
                break
    elif syl:
        forms.append(_cap(_popular(syl[0])))
    return tuple(dict.fromkeys(f for f in forms if f))
