"""Safe XML in and out for the callback payloads.

defusedxml refuses DTDs, entity declarations and external references outright (forbid_dtd), so a billion-laughs or
XXE body fails here as a parse error instead of expanding.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring


class XmlError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


XmlValue = str | list[str] | dict[str, "XmlValue"]


def parse_xml(data: bytes | str) -> dict[str, XmlValue]:
    """A WeCom `<xml>` document as a dict: leaves are stripped text, `<X><Item>a</Item>…</X>` is a list."""
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise XmlError(f"malformed XML ({type(exc).__name__})") from exc
    if root.tag != "xml":
        raise XmlError("root element is not <xml>")
    return _children(root)


def _children(element: Element) -> dict[str, XmlValue]:
    out: dict[str, XmlValue] = {}
    for child in element:
        out[child.tag] = _value(child)
    return out


def _value(element: Element) -> XmlValue:
    kids = list(element)
    if not kids:
        return (element.text or "").strip()
    if all(kid.tag == "Item" and not list(kid) for kid in kids):
        return [(kid.text or "").strip() for kid in kids]
    return _children(element)


def cdata(value: str) -> str:
    # CDATA cannot contain "]]>"; split it the standard way so any text survives.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_xml(fields: dict[str, str | int]) -> str:
    """A flat `<xml>` document; strings go into CDATA, integers stay bare (as WeCom writes them)."""
    body = "".join(
        f"<{name}>{value}</{name}>" if isinstance(value, int) else f"<{name}>{cdata(value)}</{name}>"
        for name, value in fields.items()
    )
    return f"<xml>{body}</xml>"


__all__ = ["XmlError", "XmlValue", "cdata", "escape", "parse_xml", "render_xml"]
