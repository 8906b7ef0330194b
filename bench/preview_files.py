#!/usr/bin/env python3
"""Writes the preview benchmark's files from the import benchmark's observations.csv (bench/generate_import.py):
the same values as a clerk's files would hold them — an .xlsx in the long layout with Chinese headers and
village *names* (each mapped to its code), the same with a notes column of unique text in every row (about
20 MB), the same as a GBK CSV (what Excel saves on Chinese Windows), a
wide .xlsx (a row per village and year, a column per indicator, as another program writes it) — and two
hostile files: a zip bomb (a sheet that inflates past the reader's limit) and a sheet of 10^6 empty rows.
openpyxl writes the workbooks in its streaming mode. Deterministic."""
import argparse
import hashlib
import csv
import os
import zipfile

from openpyxl import Workbook


def rows(path):
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for r in reader:
            yield r


def name_of(code):
    # bench/generate_import.py names BENCH-V00042 基准村00042.
    return "基准村" + code[len("BENCH-V"):] if code.startswith("BENCH-V") else code


def long_xlsx(src, out):
    book = Workbook(write_only=True)
    sheet = book.create_sheet("填报")
    sheet.append(["指标", "地区", "年份", "数值"])
    for r in rows(src):
        sheet.append([r["indicator"], name_of(r["region"]), int(r["year"]), float(r["value"])])
    book.save(out)


def notes_xlsx(src, out):
    """The long layout with a notes column of unique text in every row: a file of about 20 MB."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("填报")
    sheet.append(["指标", "地区", "年份", "数值", "备注"])
    for n, r in enumerate(rows(src)):
        # Hex digests compress as badly as real free text in a zip: the file stays about 20 MB.
        digest = hashlib.sha256(str(n).encode()).hexdigest()
        note = f"第{n}行：{r['region']} {r['indicator']} 由乡镇卫生院汇总上报，经复核无误 {digest}{digest[:16]}"
        sheet.append([r["indicator"], name_of(r["region"]), int(r["year"]), float(r["value"]), note])
    book.save(out)


def gbk_csv(src, out):
    with open(out, "w", newline="", encoding="gb18030") as f:
        w = csv.writer(f)
        w.writerow(["指标", "地区", "年份", "数值"])
        for r in rows(src):
            w.writerow([r["indicator"], name_of(r["region"]), r["year"] + "年", r["value"]])


def wide_xlsx(src, out):
    table = {}
    indicators = []
    for r in rows(src):
        if r["indicator"] not in indicators:
            indicators.append(r["indicator"])
        table.setdefault((r["region"], r["year"]), {})[r["indicator"]] = float(r["value"])
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(["region", "year"] + indicators)
    for (region, year), values in table.items():
        sheet.append([region, int(year)] + [values.get(i) for i in indicators])
    book.save(out)


def package(out, sheet_xml_chunks):
    """A minimal .xlsx whose one sheet's XML comes from the given chunks (streamed into the zip)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                   '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for chunk in sheet_xml_chunks:
                f.write(chunk)


HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = b"</sheetData></worksheet>"


def zip_bomb(out, inflated_mb=600):
    def chunks():
        yield HEAD
        blank = b" " * (1 << 20)
        for _ in range(inflated_mb):
            yield blank
        yield TAIL
    package(out, chunks())


def empty_rows(out, n=1_000_000):
    def chunks():
        yield HEAD
        batch = []
        for r in range(1, n + 1):
            batch.append(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t></t></is></c></row>' % (r, r))
            if len(batch) == 10000:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch)
        yield TAIL
    package(out, chunks())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    src = os.path.join(args.dir, "observations.csv")
    long_xlsx(src, os.path.join(args.dir, "long.xlsx"))
    notes_xlsx(src, os.path.join(args.dir, "notes.xlsx"))
    gbk_csv(src, os.path.join(args.dir, "gbk.csv"))
    wide_xlsx(src, os.path.join(args.dir, "wide.xlsx"))
    zip_bomb(os.path.join(args.dir, "bomb.xlsx"))
    empty_rows(os.path.join(args.dir, "empty.xlsx"))


if __name__ == "__main__":
    main()
