"""Countries: codes, names in agency languages, phone numbering, passport formats, cities.

Only what the generator needs: the countries people are born in or hold a nationality or a
phone number of, and the agencies' countries. Names are the common short names an agency
writes (``Russland``, not ``Russische Föderation``), in the languages agencies use for a
nationality written as a name (en, fr, de, es, ru). Document patterns approximate each
country's passport numbers: ``D`` digit, ``L`` letter, ``X`` letter or digit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["COUNTRIES", "HOST_COUNTRIES", "NAME_LANGUAGES", "City", "Country", "country"]

NAME_LANGUAGES = ("en", "fr", "de", "es", "ru")

#: Countries where migrants most often hold a second nationality or a phone number.
HOST_COUNTRIES = ("GB", "DE", "FR", "US", "IT", "ES", "NL")


@dataclass(frozen=True)
class City:
    native: str
    latin: str
    exonyms: dict[str, str] = field(default_factory=dict)  # agency language -> local name


@dataclass(frozen=True)
class Country:
    alpha2: str
    alpha3: str
    names: dict[str, str]  # language -> common name
    calling_code: str
    trunk_prefix: str  # "0" for most, "" where national numbers have none
    mobile_prefixes: tuple[str, ...]  # first digits of the national significant number
    mobile_length: int  # digits of the national significant number
    document_pattern: str
    cities: tuple[City, ...] = ()


def _c(*cities: tuple) -> tuple[City, ...]:
    return tuple(City(c[0], c[1], c[2] if len(c) > 2 else {}) for c in cities)


def _n(en: str, fr: str, de: str, es: str, ru: str) -> dict[str, str]:
    return {"en": en, "fr": fr, "de": de, "es": es, "ru": ru}


COUNTRIES: dict[str, Country] = {c.alpha2: c for c in (
    Country("GB", "GBR", _n("United Kingdom", "Royaume-Uni", "Vereinigtes Königreich",
                            "Reino Unido", "Великобритания"),
            "44", "0", ("7",), 10, "DDDDDDDDD", _c(
                ("London", "London", {"fr": "Londres", "es": "Londres", "ru": "Лондон"}),
                ("Birmingham", "Birmingham"), ("Manchester", "Manchester"),
                ("Glasgow", "Glasgow"), ("Liverpool", "Liverpool"), ("Leeds", "Leeds"),
                ("Bristol", "Bristol"), ("Cardiff", "Cardiff"), ("Belfast", "Belfast"),
                ("Edinburgh", "Edinburgh", {"fr": "Édimbourg", "es": "Edimburgo"}))),
    Country("US", "USA", _n("United States", "États-Unis", "Vereinigte Staaten",
                            "Estados Unidos", "США"),
            "1", "", ("2", "3", "4", "5", "6", "7", "8", "9"), 10, "LDDDDDDDD", _c(
                ("New York", "New York", {"es": "Nueva York", "ru": "Нью-Йорк"}),
                ("Los Angeles", "Los Angeles"), ("Chicago", "Chicago"),
                ("Houston", "Houston"), ("Philadelphia", "Philadelphia",
                                         {"es": "Filadelfia"}),
                ("Phoenix", "Phoenix"), ("San Antonio", "San Antonio"),
                ("Boston", "Boston"), ("Miami", "Miami"), ("Seattle", "Seattle"))),
    Country("FR", "FRA", _n("France", "France", "Frankreich", "Francia", "Франция"),
            "33", "0", ("6", "7"), 9, "DDLLDDDDD", _c(
                ("Paris", "Paris", {"es": "París", "ru": "Париж"}),
                ("Marseille", "Marseille", {"en": "Marseilles", "es": "Marsella"}),
                ("Lyon", "Lyon", {"de": "Lyon", "es": "Lyon"}), ("Toulouse", "Toulouse"),
                ("Nice", "Nice", {"es": "Niza"}), ("Nantes", "Nantes"),
                ("Strasbourg", "Strasbourg", {"de": "Straßburg", "es": "Estrasburgo"}),
                ("Montpellier", "Montpellier"), ("Bordeaux", "Bordeaux", {"es": "Burdeos"}),
                ("Lille", "Lille"))),
    Country("DE", "DEU", _n("Germany", "Allemagne", "Deutschland", "Alemania", "Германия"),
            "49", "0", ("151", "152", "157", "160", "162", "170", "171", "176"), 11,
            "LXXXXXXXX", _c(
                ("Berlin", "Berlin", {"es": "Berlín", "ru": "Берлин"}),
                ("Hamburg", "Hamburg", {"fr": "Hambourg", "es": "Hamburgo"}),
                ("München", "Muenchen", {"en": "Munich", "fr": "Munich", "es": "Múnich"}),
                ("Köln", "Koeln", {"en": "Cologne", "fr": "Cologne", "es": "Colonia"}),
                ("Frankfurt am Main", "Frankfurt am Main", {"fr": "Francfort"}),
                ("Stuttgart", "Stuttgart"), ("Düsseldorf", "Duesseldorf"),
                ("Leipzig", "Leipzig"), ("Dortmund", "Dortmund"), ("Bremen", "Bremen"))),
    Country("RO", "ROU", _n("Romania", "Roumanie", "Rumänien", "Rumania", "Румыния"),
            "40", "0", ("72", "73", "74", "75", "76", "78"), 9, "DDDDDDDD", _c(
                ("București", "Bucuresti", {"en": "Bucharest", "fr": "Bucarest",
                                            "de": "Bukarest", "es": "Bucarest"}),
                ("Cluj-Napoca", "Cluj-Napoca", {"de": "Klausenburg"}),
                ("Timișoara", "Timisoara", {"de": "Temeswar"}), ("Iași", "Iasi"),
                ("Constanța", "Constanta"), ("Craiova", "Craiova"),
                ("Brașov", "Brasov", {"de": "Kronstadt"}), ("Galați", "Galati"),
                ("Ploiești", "Ploiesti"), ("Oradea", "Oradea"))),
    Country("BG", "BGR", _n("Bulgaria", "Bulgarie", "Bulgarien", "Bulgaria", "Болгария"),
            "359", "0", ("87", "88", "89"), 9, "DDDDDDDDD", _c(
                ("София", "Sofia", {"fr": "Sofia", "de": "Sofia"}), ("Пловдив", "Plovdiv"),
                ("Варна", "Varna"), ("Бургас", "Burgas"), ("Русе", "Ruse"),
                ("Стара Загора", "Stara Zagora"), ("Плевен", "Pleven"),
                ("Сливен", "Sliven"), ("Добрич", "Dobrich"), ("Шумен", "Shumen"))),
    Country("RU", "RUS", _n("Russia", "Russie", "Russland", "Rusia", "Россия"),
            "7", "8", ("9",), 10, "DDDDDDDDD", _c(
                ("Москва", "Moskva", {"en": "Moscow", "fr": "Moscou", "de": "Moskau",
                                      "es": "Moscú"}),
                ("Санкт-Петербург", "Sankt-Peterburg", {
                    "en": "Saint Petersburg", "fr": "Saint-Pétersbourg",
                    "de": "Sankt Petersburg", "es": "San Petersburgo"}),
                ("Новосибирск", "Novosibirsk"), ("Екатеринбург", "Yekaterinburg"),
                ("Казань", "Kazan"), ("Нижний Новгород", "Nizhniy Novgorod"),
                ("Ростов-на-Дону", "Rostov-na-Donu", {"en": "Rostov-on-Don"}),
                ("Самара", "Samara"), ("Краснодар", "Krasnodar"), ("Воронеж", "Voronezh"))),
    Country("UA", "UKR", _n("Ukraine", "Ukraine", "Ukraine", "Ucrania", "Украина"),
            "380", "0", ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98"),
            9, "LLDDDDDD", _c(
                ("Київ", "Kyiv", {"en": "Kyiv", "fr": "Kiev", "de": "Kiew", "es": "Kiev",
                                  "ru": "Киев"}),
                ("Харків", "Kharkiv", {"ru": "Харьков"}),
                ("Одеса", "Odesa", {"en": "Odessa", "fr": "Odessa", "de": "Odessa",
                                    "ru": "Одесса"}),
                ("Дніпро", "Dnipro", {"ru": "Днепр"}), ("Львів", "Lviv",
                                                        {"de": "Lemberg", "ru": "Львов"}),
                ("Запоріжжя", "Zaporizhzhia", {"ru": "Запорожье"}),
                ("Миколаїв", "Mykolaiv", {"ru": "Николаев"}),
                ("Вінниця", "Vinnytsia", {"ru": "Винница"}),
                ("Херсон", "Kherson"), ("Полтава", "Poltava"))),
    Country("SY", "SYR", _n("Syria", "Syrie", "Syrien", "Siria", "Сирия"),
            "963", "0", ("93", "94", "95", "96", "98", "99"), 9, "LDDDDDDDD", _c(
                ("دمشق", "Damascus", {"fr": "Damas", "de": "Damaskus", "es": "Damasco",
                                     "ru": "Дамаск"}),
                ("حلب", "Aleppo", {"fr": "Alep", "es": "Alepo", "ru": "Алеппо"}),
                ("حمص", "Homs"), ("حماة", "Hama"), ("اللاذقية", "Latakia",
                                                    {"fr": "Lattaquié"}),
                ("دير الزور", "Deir ez-Zor"), ("الرقة", "Raqqa"), ("درعا", "Daraa"),
                ("إدلب", "Idlib"), ("طرطوس", "Tartus"))),
    Country("IQ", "IRQ", _n("Iraq", "Irak", "Irak", "Irak", "Ирак"),
            "964", "0", ("750", "770", "780", "790"), 10, "LDDDDDDDD", _c(
                ("بغداد", "Baghdad", {"fr": "Bagdad", "de": "Bagdad", "es": "Bagdad"}),
                ("البصرة", "Basra", {"fr": "Bassorah"}), ("الموصل", "Mosul",
                                                        {"fr": "Mossoul"}),
                ("أربيل", "Erbil"), ("كركوك", "Kirkuk"), ("النجف", "Najaf"),
                ("كربلاء", "Karbala"), ("السليمانية", "Sulaymaniyah"))),
    Country("EG", "EGY", _n("Egypt", "Égypte", "Ägypten", "Egipto", "Египет"),
            "20", "0", ("10", "11", "12", "15"), 10, "LDDDDDDDD", _c(
                ("القاهرة", "Cairo", {"fr": "Le Caire", "de": "Kairo", "es": "El Cairo"}),
                ("الإسكندرية", "Alexandria", {"fr": "Alexandrie", "es": "Alejandría"}),
                ("الجيزة", "Giza"), ("بورسعيد", "Port Said"), ("السويس", "Suez"),
                ("المنصورة", "Mansoura"), ("طنطا", "Tanta"), ("أسيوط", "Asyut"))),
    Country("IR", "IRN", _n("Iran", "Iran", "Iran", "Irán", "Иран"),
            "98", "0", ("901", "912", "919", "935", "936"), 10, "LDDDDDDDD", _c(
                ("تهران", "Tehran", {"fr": "Téhéran", "de": "Teheran", "es": "Teherán"}),
                ("مشهد", "Mashhad"), ("اصفهان", "Isfahan", {"fr": "Ispahan"}),
                ("کرج", "Karaj"), ("شیراز", "Shiraz", {"fr": "Chiraz"}),
                ("تبریز", "Tabriz"), ("قم", "Qom"), ("اهواز", "Ahvaz"),
                ("کرمانشاه", "Kermanshah"), ("رشت", "Rasht"))),
    Country("AF", "AFG", _n("Afghanistan", "Afghanistan", "Afghanistan", "Afganistán",
                            "Афганистан"),
            "93", "0", ("70", "72", "77", "78", "79"), 9, "LDDDDDDD", _c(
                ("کابل", "Kabul", {"fr": "Kaboul"}), ("هرات", "Herat"),
                ("قندهار", "Kandahar"), ("مزار شریف", "Mazar-i-Sharif"),
                ("جلال آباد", "Jalalabad"), ("کندز", "Kunduz"), ("غزنی", "Ghazni"))),
    Country("TR", "TUR", _n("Turkey", "Turquie", "Türkei", "Turquía", "Турция"),
            "90", "0", ("50", "53", "54", "55"), 10, "LDDDDDDDD", _c(
                ("İstanbul", "Istanbul", {"es": "Estambul", "ru": "Стамбул"}),
                ("Ankara", "Ankara"), ("İzmir", "Izmir", {"fr": "Smyrne"}),
                ("Bursa", "Bursa"), ("Adana", "Adana"), ("Gaziantep", "Gaziantep"),
                ("Konya", "Konya"), ("Antalya", "Antalya"), ("Diyarbakır", "Diyarbakir"),
                ("Kayseri", "Kayseri"))),
    Country("IN", "IND", _n("India", "Inde", "Indien", "India", "Индия"),
            "91", "0", ("6", "7", "8", "9"), 10, "LDDDDDDD", _c(
                ("मुंबई", "Mumbai", {"fr": "Bombay"}),
                ("दिल्ली", "Delhi", {"fr": "Delhi", "de": "Delhi"}),
                ("कोलकाता", "Kolkata", {"fr": "Calcutta"}), ("चेन्नई", "Chennai"),
                ("बेंगलुरु", "Bengaluru", {"en": "Bangalore"}),
                ("हैदराबाद", "Hyderabad"), ("अहमदाबाद", "Ahmedabad"), ("पुणे", "Pune"),
                ("जयपुर", "Jaipur"), ("लखनऊ", "Lucknow"))),
    Country("NP", "NPL", _n("Nepal", "Népal", "Nepal", "Nepal", "Непал"),
            "977", "0", ("980", "981", "982", "984", "985", "986"), 10, "LLDDDDDDD", _c(
                ("काठमाडौं", "Kathmandu", {"fr": "Katmandou"}), ("पोखरा", "Pokhara"),
                ("ललितपुर", "Lalitpur"), ("विराटनगर", "Biratnagar"),
                ("भरतपुर", "Bharatpur"), ("बीरगंज", "Birgunj"), ("धरान", "Dharan"),
                ("भक्तपुर", "Bhaktapur"))),
    Country("TH", "THA", _n("Thailand", "Thaïlande", "Thailand", "Tailandia", "Таиланд"),
            "66", "0", ("6", "8", "9"), 9, "LLDDDDDDD", _c(
                ("กรุงเทพมหานคร", "Bangkok", {"es": "Bangkok"}),
                ("เชียงใหม่", "Chiang Mai"), ("นครราชสีมา", "Nakhon Ratchasima"),
                ("ขอนแก่น", "Khon Kaen"), ("อุดรธานี", "Udon Thani"),
                ("หาดใหญ่", "Hat Yai"), ("ภูเก็ต", "Phuket"), ("พัทยา", "Pattaya"))),
    Country("VN", "VNM", _n("Vietnam", "Viêt Nam", "Vietnam", "Vietnam", "Вьетнам"),
            "84", "0", ("3", "5", "7", "8", "9"), 9, "LDDDDDDD", _c(
                ("Hà Nội", "Ha Noi", {"en": "Hanoi", "fr": "Hanoï", "de": "Hanoi",
                                      "es": "Hanói"}),
                ("Thành phố Hồ Chí Minh", "Ho Chi Minh City", {"fr": "Hô-Chi-Minh-Ville"}),
                ("Hải Phòng", "Hai Phong"), ("Đà Nẵng", "Da Nang"), ("Cần Thơ", "Can Tho"),
                ("Huế", "Hue"), ("Nha Trang", "Nha Trang"), ("Vinh", "Vinh"))),
    Country("CN", "CHN", _n("China", "Chine", "China", "China", "Китай"),
            "86", "0", ("13", "15", "17", "18", "19"), 11, "LDDDDDDDD", _c(
                ("北京", "Beijing", {"fr": "Pékin", "de": "Peking", "es": "Pekín"}),
                ("上海", "Shanghai", {"es": "Shanghái"}),
                ("广州", "Guangzhou", {"fr": "Canton"}), ("深圳", "Shenzhen"),
                ("重庆", "Chongqing"), ("天津", "Tianjin"), ("武汉", "Wuhan"),
                ("成都", "Chengdu"), ("温州", "Wenzhou"), ("福州", "Fuzhou"))),
    Country("JP", "JPN", _n("Japan", "Japon", "Japan", "Japón", "Япония"),
            "81", "0", ("70", "80", "90"), 10, "LLDDDDDDD", _c(
                ("東京", "Tokyo", {"fr": "Tokyo", "de": "Tokio", "es": "Tokio"}),
                ("大阪", "Osaka"), ("横浜", "Yokohama"), ("名古屋", "Nagoya"),
                ("札幌", "Sapporo"), ("福岡", "Fukuoka"), ("神戸", "Kobe"),
                ("京都", "Kyoto"))),
    Country("KR", "KOR", _n("South Korea", "Corée du Sud", "Südkorea", "Corea del Sur",
                            "Южная Корея"),
            "82", "0", ("10",), 10, "LDDDDDDDD", _c(
                ("서울", "Seoul", {"fr": "Séoul", "es": "Seúl"}), ("부산", "Busan"),
                ("인천", "Incheon"), ("대구", "Daegu"), ("대전", "Daejeon"),
                ("광주", "Gwangju"), ("울산", "Ulsan"), ("수원", "Suwon"))),
    Country("MX", "MEX", _n("Mexico", "Mexique", "Mexiko", "México", "Мексика"),
            "52", "", ("33", "55", "56", "81", "222", "442", "664"), 10, "LDDDDDDDD", _c(
                ("Ciudad de México", "Ciudad de Mexico", {"en": "Mexico City",
                                                          "fr": "Mexico",
                                                          "de": "Mexiko-Stadt"}),
                ("Guadalajara", "Guadalajara"), ("Monterrey", "Monterrey"),
                ("Puebla", "Puebla"), ("Tijuana", "Tijuana"), ("León", "Leon"),
                ("Ciudad Juárez", "Ciudad Juarez"), ("Mérida", "Merida"))),
    Country("BR", "BRA", _n("Brazil", "Brésil", "Brasilien", "Brasil", "Бразилия"),
            "55", "0", ("119", "219", "319", "419", "519", "619", "719", "819"), 11,
            "LLDDDDDD", _c(
                ("São Paulo", "Sao Paulo", {"es": "São Paulo"}),
                ("Rio de Janeiro", "Rio de Janeiro"), ("Brasília", "Brasilia"),
                ("Salvador", "Salvador"), ("Fortaleza", "Fortaleza"),
                ("Belo Horizonte", "Belo Horizonte"), ("Manaus", "Manaus"),
                ("Recife", "Recife"), ("Porto Alegre", "Porto Alegre"))),
    Country("NG", "NGA", _n("Nigeria", "Nigeria", "Nigeria", "Nigeria", "Нигерия"),
            "234", "0", ("703", "803", "806", "813", "816", "903", "906"), 10,
            "LDDDDDDDD", _c(
                ("Lagos", "Lagos"), ("Kano", "Kano"), ("Ibadan", "Ibadan"),
                ("Abuja", "Abuja"), ("Port Harcourt", "Port Harcourt"),
                ("Benin City", "Benin City"), ("Kaduna", "Kaduna"), ("Enugu", "Enugu"),
                ("Onitsha", "Onitsha"), ("Abeokuta", "Abeokuta"))),
    Country("ES", "ESP", _n("Spain", "Espagne", "Spanien", "España", "Испания"),
            "34", "", ("6", "7"), 9, "LLLDDDDDD"),
    Country("IT", "ITA", _n("Italy", "Italie", "Italien", "Italia", "Италия"),
            "39", "", ("32", "33", "34", "36", "38", "39"), 10, "LLDDDDDDD"),
    Country("NL", "NLD", _n("Netherlands", "Pays-Bas", "Niederlande", "Países Bajos",
                            "Нидерланды"),
            "31", "0", ("6",), 9, "LLXXXXXXD"),
    Country("AE", "ARE", _n("United Arab Emirates", "Émirats arabes unis",
                            "Vereinigte Arabische Emirate", "Emiratos Árabes Unidos", "ОАЭ"),
            "971", "0", ("50", "52", "55", "56"), 9, "DDDDDDDDD"),
    Country("PL", "POL", _n("Poland", "Pologne", "Polen", "Polonia", "Польша"),
            "48", "", ("5", "6", "7", "8"), 9, "LLDDDDDDD"),
)}


def country(alpha2: str) -> Country:
    try:
        return COUNTRIES[alpha2]
    except KeyError:
        raise KeyError(f"unknown country {alpha2!r}") from None
