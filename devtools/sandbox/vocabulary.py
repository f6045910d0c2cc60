"""Turkish words the demo data is drawn from, and the sandbox's small category tree."""

from dataclasses import dataclass


def _category(category_id: int, name: str, children: list[dict] | None = None) -> dict:
    """A node of GET /cdn/categories; subCategories None marks a leaf, as N11 does."""
    return {"id": category_id, "name": name, "subCategories": children}


CATEGORY_TREE = [
    _category(
        1000,
        "Elektronik",
        [
            _category(
                1100,
                "Telefon Aksesuarları",
                [_category(1101, "Telefon Kılıfı"), _category(1102, "Şarj Cihazı")],
            ),
            _category(
                1200, "Bilgisayar Çevre Birimleri", [_category(1201, "Klavye"), _category(1202, "Mouse")]
            ),
            _category(
                1300, "Ses ve Görüntü", [_category(1301, "Kulaklık"), _category(1302, "Bluetooth Hoparlör")]
            ),
        ],
    ),
    _category(
        2000,
        "Ev & Yaşam",
        [
            _category(2100, "Mutfak", [_category(2101, "Tencere"), _category(2102, "Kupa & Bardak")]),
            _category(2200, "Ev Tekstili", [_category(2201, "Nevresim Takımı"), _category(2202, "Havlu")]),
        ],
    ),
    _category(
        3000,
        "Moda",
        [
            _category(3100, "Kadın Giyim", [_category(3101, "Elbise"), _category(3102, "Tişört")]),
            _category(3200, "Ayakkabı", [_category(3201, "Spor Ayakkabı")]),
        ],
    ),
    _category(4000, "Kozmetik", [_category(4001, "Parfüm"), _category(4002, "Cilt Bakımı")]),
    _category(5000, "Spor & Outdoor", [_category(5001, "Kamp Çadırı"), _category(5002, "Uyku Tulumu")]),
    _category(6000, "Kitap & Gıda", [_category(6001, "Roman"), _category(6002, "Kuru Meyve")]),
]


@dataclass(frozen=True)
class ProductKind:
    """A kind of product the generator makes: its leaf category, noun, price range, VAT and variant axis."""

    category_id: int
    noun: str
    prices: tuple[int, int]
    vat_rate: int
    variant: str | None = None
    values: tuple[str, ...] = ()


COLOURS = ("Siyah", "Beyaz", "Lacivert", "Kırmızı", "Yeşil", "Bej", "Gri", "Pembe")
CLOTHES_SIZES = ("S", "M", "L", "XL")
PRODUCT_KINDS = (
    ProductKind(1101, "Silikon Telefon Kılıfı", (79, 349), 20, "Renk", COLOURS),
    ProductKind(1102, "Hızlı Şarj Adaptörü 20W", (149, 899), 20),
    ProductKind(1201, "Mekanik Oyuncu Klavyesi", (499, 3499), 20, "Renk", ("Siyah", "Beyaz")),
    ProductKind(1202, "Kablosuz Sessiz Mouse", (149, 1299), 20, "Renk", COLOURS),
    ProductKind(2101, "Granit Tencere Seti 7 Parça", (899, 4999), 20, "Renk", ("Siyah", "Gri", "Bej")),
    ProductKind(2102, "Porselen Kahve Kupası", (59, 249), 20, "Renk", COLOURS),
    ProductKind(
        2201, "Pamuk Saten Nevresim Takımı", (399, 1999), 10, "Boyut", ("Tek Kişilik", "Çift Kişilik")
    ),
    ProductKind(2202, "Bambu Banyo Havlusu", (99, 499), 10, "Renk", COLOURS),
    ProductKind(3101, "Keten Yazlık Elbise", (299, 1499), 10, "Beden", CLOTHES_SIZES),
    ProductKind(3102, "Organik Pamuk Tişört", (99, 399), 10, "Beden", CLOTHES_SIZES),
    ProductKind(
        3201, "Hafif Koşu Ayakkabısı", (799, 4499), 10, "Numara", ("38", "39", "40", "41", "42", "43")
    ),
    ProductKind(4001, "Eau de Parfum 100 ml", (399, 2999), 20),
    ProductKind(4002, "Nemlendirici Yüz Kremi 50 ml", (149, 799), 20),
    ProductKind(5001, "4 Kişilik Kamp Çadırı", (1299, 6999), 20, "Renk", ("Yeşil", "Gri")),
    ProductKind(5002, "Uyku Tulumu -5°C", (599, 2499), 20, "Renk", ("Lacivert", "Kırmızı")),
    ProductKind(6001, "Ciltli Türk Klasikleri Romanı", (49, 299), 0),
    ProductKind(6002, "Malatya Gün Kurusu Kayısı 1 kg", (199, 599), 1),
)
BRANDS = (
    "Anadolu",
    "Boğaziçi",
    "Kapadokya",
    "Ege Doğa",
    "Lale",
    "Nazar",
    "Pamukkale",
    "Toros",
    "Vadi",
    "Yakamoz",
)
ADJECTIVES = ("Şık", "Dayanıklı", "Hafif", "Premium", "Klasik", "Modern", "Ekonomik", "Pratik")
DESCRIPTION_SENTENCES = (
    "Günlük kullanım için tasarlanmıştır.",
    "Kaliteli malzemesiyle uzun yıllar kullanılabilir.",
    "Türkiye'de üretilmiştir.",
    "Kolay temizlenir ve bakımı zahmetsizdir.",
    "Şık tasarımı her ortama uyum sağlar.",
    "Hediye paketinde gönderilebilir.",
    "Ürün orijinal kutusunda, faturalı olarak gönderilir.",
    "İade ve değişim 14 gün içinde ücretsizdir.",
)
SHIPMENT_TEMPLATES = ("Standart Kargo", "Ücretsiz Kargo", "Hızlı Teslimat")

FIRST_NAMES = (
    "Ayşe",
    "Fatma",
    "Emine",
    "Hatice",
    "Zeynep",
    "Elif",
    "Meryem",
    "Zehra",
    "Büşra",
    "Merve",
    "Özge",
    "Tuğba",
    "Çağla",
    "Selin",
    "Ece",
    "Mehmet",
    "Mustafa",
    "Ahmet",
    "Ali",
    "Hüseyin",
    "Hasan",
    "İbrahim",
    "İsmail",
    "Osman",
    "Yusuf",
    "Murat",
    "Ömer",
    "Emre",
    "Burak",
    "Gökhan",
    "Can",
    "Deniz",
    "Şükrü",
    "Uğur",
)
LAST_NAMES = (
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Yıldırım",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Doğan",
    "Kılıç",
    "Aslan",
    "Çetin",
    "Kara",
    "Koç",
    "Kurt",
    "Özkan",
    "Şimşek",
    "Polat",
    "Korkmaz",
    "Güneş",
    "Aksoy",
    "Tekin",
    "Bulut",
    "Acar",
    "Güler",
)
# city -> (plate code, which also opens its postal codes, {district: neighbourhoods})
CITIES: dict[str, tuple[int, dict[str, tuple[str, ...]]]] = {
    "İstanbul": (
        34,
        {
            "Kadıköy": ("Moda", "Caferağa", "Fenerbahçe"),
            "Beşiktaş": ("Levent", "Bebek", "Etiler"),
            "Üsküdar": ("Altunizade", "Kuzguncuk"),
            "Bakırköy": ("Ataköy", "Yeşilköy"),
        },
    ),
    "Ankara": (
        6,
        {
            "Çankaya": ("Kızılay", "Bahçelievler", "Ayrancı"),
            "Keçiören": ("Etlik",),
            "Yenimahalle": ("Batıkent", "Demetevler"),
        },
    ),
    "İzmir": (
        35,
        {
            "Karşıyaka": ("Bostanlı", "Mavişehir"),
            "Konak": ("Alsancak", "Göztepe"),
            "Bornova": ("Kazımdirik", "Erzene"),
        },
    ),
    "Bursa": (16, {"Nilüfer": ("Görükle", "Ertuğrul"), "Osmangazi": ("Çekirge", "Soğanlı")}),
    "Antalya": (7, {"Muratpaşa": ("Lara", "Şirinyalı"), "Konyaaltı": ("Liman", "Hurma")}),
    "Adana": (1, {"Seyhan": ("Reşatbey", "Ziyapaşa"), "Çukurova": ("Toros", "Huzurevleri")}),
    "Konya": (42, {"Selçuklu": ("Bosna Hersek", "Feritpaşa"), "Meram": ("Yaka", "Havzan")}),
    "Gaziantep": (27, {"Şahinbey": ("Karataş", "Güneykent"), "Şehitkamil": ("İbrahimli", "Batıkent")}),
    "Trabzon": (61, {"Ortahisar": ("Boztepe", "Kemerkaya")}),
    "Eskişehir": (26, {"Tepebaşı": ("Batıkent", "Hoşnudiye"), "Odunpazarı": ("Vişnelik", "Akarbaşı")}),
}
STREETS = (
    "Atatürk Cad.",
    "Cumhuriyet Cad.",
    "İstiklal Sok.",
    "Gazi Bulvarı",
    "Menekşe Sok.",
    "Lale Sok.",
    "Çınar Sok.",
    "Barış Cad.",
    "Okul Sok.",
    "Bağdat Cad.",
)
PICKUP_SHOPS = ("Kırtasiye", "Market", "Kuru Temizleme", "Büfe")
COMPANY_SUFFIXES = ("Ticaret Ltd. Şti.", "Gıda San. ve Tic. A.Ş.", "Bilişim Ltd. Şti.")
CARRIERS = ("Yurtiçi Kargo", "Aras Kargo", "MNG Kargo", "PTT Kargo", "Sürat Kargo")
COMMISSION_RATES = ("8.50", "12.00", "15.00", "17.50")
