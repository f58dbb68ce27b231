"""What the helpdesk connectors (Zammad, Znuny) share: state types as the canonical ticket status, and
file endings as the attachment kind."""

from __future__ import annotations

# A helpdesk's state types -> the canonical ticket status (Zammad's and Znuny's names).
STATUS = {"new": "open", "open": "open", "delegated": "open", "pending reminder": "pending",
          "pending action": "pending", "pending review": "pending", "closed": "closed", "merged": "closed",
          "removed": "closed", "pending auto": "pending"}
# File name endings -> attachment kind (anything else is "other").
KINDS = (
    ("mail_copy", ("eml", "msg")),
    ("log_file", ("log", "txt", "evtx", "etl")),
    ("configuration", ("conf", "cfg", "ini", "xml", "json", "yaml", "yml", "reg", "ps1", "bat", "sh")),
    ("screenshot", ("png", "jpg", "jpeg", "gif", "bmp", "webp", "heic", "tif", "tiff")),
    ("document", ("pdf", "doc", "docx", "odt", "xls", "xlsx", "ods", "ppt", "pptx", "rtf", "csv")),
)


def ending(extensions: tuple[str, ...]) -> str:
    """A regular expression for a file name ending in one of ``extensions``."""
    return r"\.(" + "|".join(extensions) + r")$"
