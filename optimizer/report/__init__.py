"""The client-meeting report: what it says (``report_content``), as a PDF or as one HTML file."""

from optimizer.report.content import Brand, ReportContent, Table, report_content
from optimizer.report.html import report_html, write_html
from optimizer.report.pdf import report_pages, write_pdf

__all__ = ["Brand", "ReportContent", "Table", "report_content", "report_html", "report_pages", "write_html",
           "write_pdf"]
