"""Regenerate the sample roster and commitment letter: python -m bot.samples.generate

The 30 trainees are fictitious; their ID numbers are made valid (GB 11643 check digit, real birth
dates, gender digit agreeing) by ``handlers.idcard.make_id_number``.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from openpyxl import Workbook

from handlers.idcard import make_id_number

HERE = Path(__file__).parent
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "秀英桂兰玉兰丽娜静敏燕艳芳建华建国志强伟军磊勇洋涛明超刚平辉鹏华飞鑫波"
CATEGORIES = ("下岗失业人员", "高校毕业生", "农村转移就业劳动者", "企业职工")
REGIONS = ("150203", "150204", "150205", "150206", "150207")


def trainees(count: int, seed: int = 2026) -> list[tuple[str, str, str, str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        gender = rng.choice("男女")
        birth = date(1970, 1, 1) + timedelta(days=rng.randrange(0, 365 * 33))
        seq = rng.randrange(0, 500) * 2 + (1 if gender == "男" else 0)
        number = make_id_number(rng.choice(REGIONS), birth, seq)
        phone = "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))
        rows.append((name, gender, number, phone, CATEGORIES[i % len(CATEGORIES)]))
    return rows


def write_roster(path: Path, rows, title: str = "育婴员线上培训 2026 第1期 实名制花名册") -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "花名册"
    sheet.append([title])
    sheet.append(["姓名", "性别", "身份证号", "手机号", "身份类别"])
    for row in rows:
        sheet.append(list(row))
    for cell in sheet["C"] + sheet["D"]:
        cell.number_format = "@"
    book.save(path)


MINIMAL_PDF = b"""%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >> endobj
4 0 obj << /Length 60 >> stream
BT /F1 18 Tf 72 760 Td (Commitment letter - sample, signed) Tj ET
endstream endobj
5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj
trailer << /Root 1 0 R >>
%%EOF
"""


if __name__ == "__main__":
    write_roster(HERE / "roster.xlsx", trainees(30))
    (HERE / "commitment.pdf").write_bytes(MINIMAL_PDF)
    print("samples written")
