"""Nicknames and diminutives that records use instead of the given name.

Keys are the given name: lower-case ASCII for Latin-script names (so Jose and José both
match), the native spelling for Cyrillic ones. Values keep the key's script; a Cyrillic
diminutive is romanised like the name it replaces.
"""

from __future__ import annotations

from anyascii import anyascii

__all__ = ["NICKNAMES", "nicknames_for"]

_ENGLISH = {
    "william": ("Bill", "Will", "Billy", "Liam"), "robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "richard": ("Rick", "Dick", "Rich", "Richie"), "james": ("Jim", "Jimmy", "Jamie"),
    "john": ("Jack", "Johnny"), "jonathan": ("Jon", "Jonny"), "joseph": ("Joe", "Joey"),
    "thomas": ("Tom", "Tommy"), "michael": ("Mike", "Mick", "Mikey"),
    "christopher": ("Chris", "Kit"), "charles": ("Charlie", "Chuck", "Chas"),
    "edward": ("Ed", "Eddie", "Ted", "Ned"), "anthony": ("Tony",), "antony": ("Tony",),
    "daniel": ("Dan", "Danny"), "david": ("Dave", "Davy"), "matthew": ("Matt",),
    "andrew": ("Andy", "Drew"), "alexander": ("Alex", "Sandy"), "benjamin": ("Ben", "Benny"),
    "samuel": ("Sam", "Sammy"), "nicholas": ("Nick", "Nicky"), "stephen": ("Steve",),
    "steven": ("Steve",), "timothy": ("Tim",), "patrick": ("Pat", "Paddy"), "peter": ("Pete",),
    "gregory": ("Greg",), "kenneth": ("Ken", "Kenny"), "ronald": ("Ron", "Ronnie"),
    "donald": ("Don", "Donnie"), "raymond": ("Ray",), "gerald": ("Gerry", "Jerry"),
    "lawrence": ("Larry",), "leonard": ("Len", "Lenny"), "frederick": ("Fred", "Freddie"),
    "harold": ("Harry", "Hal"), "henry": ("Harry", "Hank"), "jeffrey": ("Jeff",),
    "joshua": ("Josh",), "zachary": ("Zach",), "nathan": ("Nate",), "nathaniel": ("Nat",),
    "philip": ("Phil",), "phillip": ("Phil",), "douglas": ("Doug",), "terence": ("Terry",),
    "vincent": ("Vince", "Vinny"), "walter": ("Walt", "Wally"), "albert": ("Al", "Bert"),
    "alfred": ("Alf", "Fred"), "bernard": ("Bernie",), "francis": ("Frank",),
    "jacob": ("Jake",), "louis": ("Lou",), "martin": ("Marty",), "mitchell": ("Mitch",),
    "oliver": ("Ollie",), "russell": ("Russ",), "stanley": ("Stan",),
    "theodore": ("Ted", "Theo"), "victor": ("Vic",), "gareth": ("Gaz",), "graham": ("Gra",),
    "elizabeth": ("Liz", "Beth", "Betty", "Lizzie"), "margaret": ("Maggie", "Peggy", "Meg"),
    "katherine": ("Kate", "Kathy", "Katie"), "catherine": ("Cathy", "Kate", "Cath"),
    "kathryn": ("Kate", "Kathy"), "jennifer": ("Jen", "Jenny"), "jessica": ("Jess",),
    "rebecca": ("Becky", "Becca"), "deborah": ("Deb", "Debbie"),
    "patricia": ("Pat", "Patty", "Trish"), "susan": ("Sue", "Susie"),
    "barbara": ("Barb", "Babs"), "christine": ("Chris", "Tina"), "christina": ("Tina",),
    "victoria": ("Vicky", "Tori"), "samantha": ("Sam",), "alexandra": ("Alex", "Sandra"),
    "abigail": ("Abby",), "amanda": ("Mandy",), "kimberly": ("Kim",), "pamela": ("Pam",),
    "sandra": ("Sandy",), "dorothy": ("Dot", "Dolly"), "jacqueline": ("Jackie",),
    "judith": ("Judy",), "cynthia": ("Cindy",), "theresa": ("Terri", "Tess"),
    "teresa": ("Terri", "Tess"), "eleanor": ("Ellie", "Nell"), "josephine": ("Jo", "Josie"),
    "stephanie": ("Steph",), "nicole": ("Nikki",), "caroline": ("Carrie",),
    "melissa": ("Mel",), "valerie": ("Val",), "gillian": ("Jill",), "natalie": ("Nat",),
}
_EUROPEAN = {
    "johannes": ("Hans", "Jo"), "johann": ("Hans",), "friedrich": ("Fritz",),
    "wolfgang": ("Wolf",), "wilhelm": ("Willi",), "heinrich": ("Heinz",),
    "elisabeth": ("Lisa", "Elli"), "margarete": ("Grete",), "katharina": ("Kathi", "Katja"),
    "nicolas": ("Nico",), "dominique": ("Dom",), "jose": ("Pepe",),
    "francisco": ("Paco", "Pancho", "Chico"), "guadalupe": ("Lupe",), "jesus": ("Chuy",),
    "manuel": ("Manolo",), "ignacio": ("Nacho",), "enrique": ("Quique",),
    "alejandro": ("Alex", "Ale"), "guillermo": ("Memo",), "roberto": ("Beto",),
    "alberto": ("Beto",), "eduardo": ("Lalo",), "dolores": ("Lola",), "rosario": ("Charo",),
    "antonio": ("Toni", "Toninho"), "ion": ("Ionel", "Nelu"), "gheorghe": ("Gica",),
    "constantin": ("Costel", "Costi"), "vasile": ("Vasilica",), "alexandru": ("Alex", "Sandu"),
    "mehmet": ("Memo",), "mustafa": ("Musti",), "mohammed": ("Mo", "Moe"),
    "mohamed": ("Mo", "Moe"), "muhammad": ("Mo",), "mohammad": ("Mo",),
    "abdullah": ("Abdu",), "oluwaseun": ("Seun",), "oluwatobi": ("Tobi",),
    "olumide": ("Mide",), "adebayo": ("Bayo",), "oluwafemi": ("Femi",),
    "chukwuemeka": ("Emeka",), "oluwadamilare": ("Dami",), "oluwakemi": ("Kemi",),
    "ebubechukwu": ("Ebube",), "chinedu": ("Nedu",), "ifeanyichukwu": ("Ifeanyi",),
}
_CYRILLIC = {
    "Александр": ("Саша", "Шура"), "Алексей": ("Алёша", "Лёша"), "Дмитрий": ("Дима", "Митя"),
    "Михаил": ("Миша",), "Николай": ("Коля",), "Сергей": ("Серёжа",),
    "Владимир": ("Вова", "Володя"), "Иван": ("Ваня",), "Евгений": ("Женя",),
    "Андрей": ("Андрюша",), "Анатолий": ("Толя",), "Виктор": ("Витя",), "Юрий": ("Юра",),
    "Павел": ("Паша",), "Пётр": ("Петя",), "Константин": ("Костя",), "Григорий": ("Гриша",),
    "Борис": ("Боря",), "Вячеслав": ("Слава",), "Ярослав": ("Слава",),
    "Станислав": ("Стас",), "Владислав": ("Влад",), "Василий": ("Вася",), "Фёдор": ("Федя",),
    "Георгий": ("Жора",), "Екатерина": ("Катя",), "Елена": ("Лена",), "Ольга": ("Оля",),
    "Татьяна": ("Таня",), "Наталья": ("Наташа",), "Мария": ("Маша",), "Анна": ("Аня",),
    "Светлана": ("Света",), "Людмила": ("Люда",), "Ирина": ("Ира",), "Юлия": ("Юля",),
    "Анастасия": ("Настя",), "Дарья": ("Даша",), "Ксения": ("Ксюша",), "Евгения": ("Женя",),
    "Александра": ("Саша",), "Виктория": ("Вика",), "Валентина": ("Валя",),
    "Галина": ("Галя",), "Надежда": ("Надя",), "Любовь": ("Люба",),
    "Олександр": ("Сашко", "Олесь"), "Олексій": ("Льоша",), "Микола": ("Коля",),
    "Михайло": ("Михась",), "Василь": ("Вася",), "Володимир": ("Вова",),
    "Богдан": ("Бодя",), "Ганна": ("Ганя",), "Катерина": ("Катя",), "Олена": ("Лена",),
    "Тетяна": ("Таня",), "Наталія": ("Наташа",), "Георги": ("Жоро",),
    "Димитър": ("Митко",), "Александър": ("Сашо",), "Стефан": ("Стефо",), "Христо": ("Ицо",),
    "Петър": ("Пешо",), "Йордан": ("Данчо",),
}

NICKNAMES: dict[str, tuple[str, ...]] = {**_ENGLISH, **_EUROPEAN, **_CYRILLIC}


def nicknames_for(name: str) -> tuple[str, ...]:
    """Nicknames of a given name (native Cyrillic or Latin); empty when none is known."""
    found = NICKNAMES.get(name)
    if found is None and name.isascii():
        found = NICKNAMES.get(name.lower())
    elif found is None:
        folded = anyascii(name).lower()
        found = NICKNAMES.get(folded) if folded.isalpha() and _is_latin(name) else None
    return found or ()


def _is_latin(text: str) -> bool:
    return all(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in text)
