"""Regenerates media_types_golden.json: which Content-Type header values FastAPI reads as JSON.

Standard library only:  python3 gen_media_types.py > media_types_golden.json

FastAPI (fastapi/routing.py, get_request_handler, since 0.65.2) parses a non-empty body as JSON
when the header is absent or empty, or when email.message.Message, given the header, reports the
main type "application" and a subtype "json" or ending in "+json"; any other body goes to
pydantic as bytes. Starlette hands it the header decoded as Latin-1, so each value below is a
string of code points below 256, one per byte on the wire.
"""
import email.message
import json
import sys


def fastapi_reads_json(value: str) -> bool:
    if not value:
        return True
    message = email.message.Message()
    message["content-type"] = value
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


VALUES = [
    "",
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "application/json ; charset=utf-8",
    "APPLICATION/JSON",
    "Application/Json",
    " application/json ",
    "\tapplication/json\t",
    "application/json\x85",
    "\xa0application/json\xa0",
    "\x1capplication/json\x1f",
    "\x0bapplication/json\x0c",
    "application/merge-patch+json",
    "application/vnd.api+json; charset=utf-8",
    "application/problem+JSON",
    "application/+json",
    "application/geo+json-seq",
    "application/json-seq",
    "application/jsonx",
    "application/json5",
    "application/x-json",
    "application/javascript",
    "application/json charset=utf-8",
    "application/ json",
    "application /json",
    "application/json/x",
    "application//json",
    "application",
    "json",
    "/json",
    "application/",
    ";application/json",
    "application/json;",
    "application/json;;",
    "application/json, text/plain",
    "text/json",
    "text/plain",
    "text/plain; charset=utf-8",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=----x",
    "application/octet-stream",
    "application/xml",
    "application/x+json+xml",
    "application/xml+json",
    "application/js\xf3n",
    "appl\xefcation/json",
    "application/j\xc5\xbfon",
    "application/\xe2\x84\xaaon",
    "\xc0pplication/json",
    "*/*",
    ";",
    " ",
    "\xa0",
]


def main():
    cases = [{"content_type": v, "json": fastapi_reads_json(v)} for v in VALUES]
    json.dump({"python": sys.version.split()[0], "cases": cases}, sys.stdout, ensure_ascii=True, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
