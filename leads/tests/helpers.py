from testsupport.fake_sheets import FakeSheets


def sheet_ids(fake: FakeSheets, worksheet: str = "Leads") -> list[str]:
    """Lead ids in column A, below the header row."""
    return [row[0] for row in fake.rows(worksheet)[1:] if row]
