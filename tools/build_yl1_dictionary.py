"""Build the YL1 preset DEFLATE dictionary from general vocabulary (docs/formats.md, "Dictionary").

The dictionary is made only of vocabulary that any lab's certificate may use: the
credential's own skeleton (member names, context and schema URLs, status-list entry
shape), JOSE headers, units of measure, prefixes of standards bodies, result words,
chemical elements, and common analytes and properties of each scope category. It is
never built from particular certificates. Once a version is released its bytes are
frozen (their SHA-256 is pinned in protocol/yl1.py); a new vocabulary is a new
version. DEFLATE codes near matches more cheaply than far ones, so the most common
pieces go last.

Run: python tools/build_yl1_dictionary.py > protocol/data/yl1-dict-v1.txt
"""

from __future__ import annotations

import sys

# Least frequent first. Each group is general vocabulary, written as it appears in JSON.

ELEMENTS = [
    ("Aluminium", "Al"),
    ("Antimony", "Sb"),
    ("Barium", "Ba"),
    ("Beryllium", "Be"),
    ("Boron", "B"),
    ("Cobalt", "Co"),
    ("Molybdenum", "Mo"),
    ("Selenium", "Se"),
    ("Thallium", "Tl"),
    ("Vanadium", "V"),
    ("Titanium", "Ti"),
    ("Niobium", "Nb"),
    ("Nitrogen", "N"),
    ("Iron", "Fe"),
    ("Calcium", "Ca"),
    ("Magnesium", "Mg"),
    ("Potassium", "K"),
    ("Sodium", "Na"),
    ("Silicon", "Si"),
    ("Manganese", "Mn"),
    ("Phosphorus", "P"),
    ("Sulfur", "S"),
    ("Carbon", "C"),
    ("Tin", "Sn"),
    ("Nickel", "Ni"),
    ("Zinc", "Zn"),
    ("Copper", "Cu"),
    ("Chromium", "Cr"),
    ("Arsenic", "As"),
    ("Mercury", "Hg"),
    ("Cadmium", "Cd"),
    ("Lead", "Pb"),
]

ANALYTES = [
    # textiles, consumer goods, electrical, energy, environment
    "Formaldehyde",
    "Azo dyes",
    "pH value",
    "Colour fastness",
    "Fibre content",
    "Phthalates",
    "Insulation resistance",
    "Dielectric strength",
    "Leakage current",
    "Temperature rise",
    "Calorific value",
    "Sulfur content",
    "Flash point",
    "Density at 15 °C",
    "Viscosity",
    "Chemical oxygen demand",
    "Suspended solids",
    "Ammonia nitrogen",
    "Filtration efficiency",
    "Breathing resistance",
    "Bacterial filtration efficiency",
    # minerals and metals
    "Impact energy",
    "Hardness",
    "Reduction of area",
    "Bend test",
    "Elongation after fracture",
    "Tensile strength",
    "Yield strength",
    "Chemical composition",
    "Carbon equivalent",
    # food and agriculture: microbiology, contaminants, composition
    "Staphylococcus aureus",
    "Listeria monocytogenes",
    "Salmonella",
    "Escherichia coli",
    "Coliforms",
    "Moulds and yeasts",
    "Total plate count",
    "Aflatoxin B1",
    "Aflatoxin M1",
    "Ochratoxin A",
    "Deoxynivalenol",
    "Zearalenone",
    "Benzo[a]pyrene",
    "Nitrite",
    "Nitrate",
    "Sulfur dioxide",
    "Histamine",
    "Melamine",
    "Radioactivity Cs-137",
    "Protein",
    "Fat",
    "Water activity",
    "Acid value",
    "Peroxide value",
    "Total ash",
    "Moisture",
    # the pesticide residues most often named in MRL regulations (Codex, GB 2763, EU)
    "Glyphosate",
    "Carbendazim",
    "Thiamethoxam",
    "Difenoconazole",
    "Tebuconazole",
    "Azoxystrobin",
    "Dimethoate",
    "Omethoate",
    "Malathion",
    "Profenofos",
    "Triazophos",
    "Dicofol",
    "Endosulfan",
    "Fenvalerate",
    "Deltamethrin",
    "Lambda-cyhalothrin",
    "Fipronil",
    "Chlorfenapyr",
    "Buprofezin",
    "Pyridaben",
    "Acetamiprid",
    "Imidacloprid",
    "Bifenthrin",
    "Cypermethrin",
    "Chlorpyrifos",
]

UNITS = [
    "Bq/kg",
    "MPN/g",
    "CFU/mL",
    "CFU/g",
    "µg/L",
    "mg/L",
    "g/100 g",
    "g/kg",
    "μg/kg",
    "µg/kg",
    "mg/m³",
    "mm²/s",
    "MJ/kg",
    "kg/m³",
    "°C",
    "kV",
    "mA",
    "MΩ",
    "dB",
    "Pa",
    "kPa",
    "N",
    "J",
    "HBW",
    "HV",
    "HRC",
    "MPa",
    "ppm",
    "%",
    "mg/kg",
]

STANDARD_PREFIXES = [
    "BS EN ",
    "DIN ",
    "JIS ",
    "AOAC ",
    "EPA ",
    "IEC ",
    "ASTM ",
    "EN ",
    "ISO/IEC ",
    "ISO ",
    "СТ РК ",
    "ГОСТ Р ",
    "ГОСТ ",
    "SN/T ",
    "NY/T ",
    "GB/T ",
    "GB ",
]

WORDS = [
    "Limited Liability Company",
    "Joint Stock Company",
    "Trading",
    "Holding Group",
    "Import and Export",
    "Co., Ltd.",
    "LLP",
    "LLC",
    "JSC",
    "ТОО ",
    "ООО ",
    "АО ",
    "有限责任公司",
    "股份有限公司",
    "有限公司",
    "集团",
    "进出口",
    "贸易",
    "not detected",
    "absent in 25 g",
    "negative",
    "conforms",
    "no cracks",
    "N/A",
]


def build() -> bytes:
    parts: list[str] = []
    parts += [f'{{"parameter":"{a}","method":"' for a in ANALYTES]
    parts += [f'{{"parameter":"{name} ({sym})","method":"' for name, sym in ELEMENTS]
    parts += [f'"{w}"' for w in WORDS]
    parts += [f'","unit":"{u}","limit":"' for u in UNITS]
    parts += [f'","method":"{p}' for p in STANDARD_PREFIXES]
    parts += [
        '"scope":"agricultural","scope":"chemicals","scope":"energy","scope":"environment",'
        '"scope":"medical-protective","scope":"consumer-goods","scope":"machinery-electrical",'
        '"scope":"textiles","scope":"minerals-metals",',
        '"manufacturer":{"name":"',
        '"nameLocal":{"en":"',
        '","kk":"',
        ',"unit":"t"},',
        '","value":"not detected",',
        '","limit":">=',
        '","verdict":"fail"},{"parameter":"',
        '"standards":["GB/T ',
        # JOSE headers, then the credential skeleton in the canonical member order
        # (protocol.credential.MEMBER_ORDER); the most common pieces come last
        '{"alg":"ES256","kid":"',
        '{"alg":"EdDSA","kid":"',
        '","typ":"vc+jwt"}',
        '{"@context":["https://www.w3.org/ns/credentials/v2","https://w3id.org/yilu/v1"],"id":"https://',
        "/certificates/",
        '","type":["VerifiableCredential","TestCertificateCredential"],"issuer":"https://',
        '","validFrom":"20',
        'Z","validUntil":"20',
        'T00:00:00Z","credentialSubject":{"reportNumber":"',
        '","scope":"food","applicant":{"name":"',
        '","country":"',
        '"},"product":{"name":"',
        '","nameLocal":{"zh":"',
        '","ru":"',
        '"},"hsCode":"',
        '","batch":"',
        '","quantity":{"value":',
        ',"unit":"kg"},"origin":"',
        '","destination":"',
        '"},"sampling":{"date":"20',
        '","method":"GB/T ',
        '"},"results":[{"parameter":"',
        '","method":"GB ',
        '","value":"<0.01","unit":"mg/kg","limit":"<=',
        '","verdict":"pass"},{"parameter":"',
        '","verdict":"pass"}],"conclusion":"pass"},',
        '"credentialStatus":[{"type":"BitstringStatusListEntry","statusPurpose":"revocation",'
        '"statusListIndex":"',
        '","statusListCredential":"https://',
        '/status/revocation"},{"type":"BitstringStatusListEntry","statusPurpose":"suspension",'
        '"statusListIndex":"',
        '/status/suspension"}],"credentialSchema":{"id":'
        '"https://w3id.org/yilu/schemas/test-certificate-v1.json","type":"JsonSchema"}}',
    ]
    return "".join(parts).encode("utf-8")


if __name__ == "__main__":
    sys.stdout.buffer.write(build())
