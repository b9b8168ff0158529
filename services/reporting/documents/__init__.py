"""Review documents built from the read model: XLSX workbooks, the DOCX draft report, its PDF."""
