"""The one PDF set-up (handlers/pdf.py): Chinese text in an embedded font, read back out of the file."""

from __future__ import annotations

import pypdfium2

from handlers import pdf


def pages_text(data: bytes) -> list[str]:
    doc = pypdfium2.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def test_R20_chinese_text_is_embedded_and_reads_back_from_every_page():
    doc = pdf.document(orientation="landscape", title="考勤台账")
    doc.add_page()
    pdf.centered(doc, "育婴员线上培训 考勤台账", 16)
    rows = [[n, f"学员{n}", "150203198503071004", "08:25迟"] for n in range(1, 61)]
    pdf.table(doc, ["序号", "姓名", "身份证号", "上午签到"], rows, widths=[10, 30, 50, 20])
    data = pdf.to_bytes(doc)
    assert b"/FontFile" in data  # the font travels inside the file: prints the same on any PC
    pages = pages_text(data)
    assert len(pages) >= 2
    assert "育婴员线上培训 考勤台账" in pages[0] and "学员1" in pages[0]
    assert all("上午签到" in page for page in pages)  # the header repeats on every page
    assert "学员60" in pages[-1]


def test_the_same_content_gives_the_same_bytes():
    def build() -> bytes:
        doc = pdf.document()
        doc.add_page()
        pdf.centered(doc, "培训证明", 30)
        return pdf.to_bytes(doc)

    assert build() == build()
