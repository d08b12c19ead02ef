"""Regenerates pydantic_golden.json: what FastAPI + pydantic v2 answer for each case.

Run with any Python that has pydantic v2 installed (FastAPI itself is not needed; its
body handling is reproduced below):  python3 gen_golden.py > pydantic_golden.json

Cases whose answer depends on the Python version's json module (trailing commas changed
in 3.13) or where the Go service deliberately differs (NaN/Infinity, integers beyond
int64, invalid UTF-8) are not listed here; schema_test.go covers them by hand.

The service refuses strings holding NUL (U+0000), which PostgreSQL cannot store; pydantic does
not, so the request models' strings below carry the BeforeValidator whose answer the service
gives (Text), and the answers are encoded as FastAPI's jsonable_encoder would (an exception in
ctx becomes {}). Untyped and free-form values (ValidationError.input, claims) and union
members keep plain str: there the service's check has no pydantic counterpart to record.
"""
import json
import sys
from typing import Annotated, Any, Optional, Union

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError


def refuse_nul(v):
    if isinstance(v, str) and "\x00" in v:
        raise ValueError("String should not contain NUL characters")
    return v


Text = Annotated[str, BeforeValidator(refuse_nul)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    email: Text
    password: Text
    event_id: Optional[int] = None
    role: Text = "admin"


class MFAVerifyRequest(Strict):
    code: Text = Field(min_length=6, max_length=6)


class OperatorLoginRequest(Strict):
    email: Text = Field(min_length=3, max_length=254)
    password: Text = Field(min_length=1, max_length=256)
    dev_type: Text = Field(pattern=r"^(POS|REPORT|FASTPASS|KIDS|DISPATCH)$")
    dev_mac: Text = Field(min_length=1, max_length=64)


class PasswordResetRequestBody(Strict):
    email: Text = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class APIKeyRequest(Strict):
    event_id: int
    name: Text = Field(min_length=1, max_length=100)
    scopes: list[Text]


class OfflineTokenRequest(Strict):
    event_id: int
    device_id: Optional[Text] = None


class TokenVerifyRequest(Strict):
    token: Text


class DeviceTokenRequest(Strict):
    operator_id: int


class ValidationErrorModel(BaseModel):
    loc: list[Union[str, int]]
    msg: str
    type: str
    input: Any = None
    ctx: dict = None


class TokenVerifyResponse(BaseModel):
    valid: bool
    claims: Optional[dict] = None


MODELS = {
    "LoginRequest": LoginRequest,
    "MFAVerifyRequest": MFAVerifyRequest,
    "OperatorLoginRequest": OperatorLoginRequest,
    "PasswordResetRequestBody": PasswordResetRequestBody,
    "APIKeyRequest": APIKeyRequest,
    "OfflineTokenRequest": OfflineTokenRequest,
    "TokenVerifyRequest": TokenVerifyRequest,
    "DeviceTokenRequest": DeviceTokenRequest,
    "ValidationError": ValidationErrorModel,
    "TokenVerifyResponse": TokenVerifyResponse,
}

OK_LOGIN = '"email":"a@b.c","password":"pw"'

BODIES = {
    "LoginRequest": [
        "{}",
        "{" + OK_LOGIN + "}",
        '{"password":"pw"}',
        "{" + OK_LOGIN + ',"event_id":null}',
        "{" + OK_LOGIN + ',"event_id":"7"}',
        "{" + OK_LOGIN + ',"event_id":" 7 "}',
        "{" + OK_LOGIN + ',"event_id":"+7"}',
        "{" + OK_LOGIN + ',"event_id":"1_000"}',
        "{" + OK_LOGIN + ',"event_id":"7.000"}',
        "{" + OK_LOGIN + ',"event_id":"7."}',
        "{" + OK_LOGIN + ',"event_id":".0"}',
        "{" + OK_LOGIN + ',"event_id":"_1"}',
        "{" + OK_LOGIN + ',"event_id":"1__0"}',
        "{" + OK_LOGIN + ',"event_id":"1_.0"}',
        "{" + OK_LOGIN + ',"event_id":"0x10"}',
        "{" + OK_LOGIN + ',"event_id":"1e3"}',
        "{" + OK_LOGIN + ',"event_id":"\\u0663"}',
        "{" + OK_LOGIN + ',"event_id":"\\u00a07\\u3000"}',
        "{" + OK_LOGIN + ',"event_id":"\\u200b7"}',
        "{" + OK_LOGIN + ',"event_id":""}',
        "{" + OK_LOGIN + ',"event_id":"x"}',
        "{" + OK_LOGIN + ',"event_id":5.0}',
        "{" + OK_LOGIN + ',"event_id":-0.0}',
        "{" + OK_LOGIN + ',"event_id":1e2}',
        "{" + OK_LOGIN + ',"event_id":5.5}',
        "{" + OK_LOGIN + ',"event_id":1e20}',
        "{" + OK_LOGIN + ',"event_id":1e-7}',
        "{" + OK_LOGIN + ',"event_id":true}',
        "{" + OK_LOGIN + ',"event_id":false}',
        "{" + OK_LOGIN + ',"event_id":[]}',
        "{" + OK_LOGIN + ',"event_id":{"a":1}}',
        "{" + OK_LOGIN + ',"event_id":9223372036854775807}',
        '{"email":"a","password":123}',
        '{"email":null,"password":true}',
        '{"email":1.5,"password":[1,"x",{"k":null}]}',
        '{"email":"a","password":"b","extra":1}',
        '{"x":1,"email":"a","x":2.50,"password":5,"y":[1,{"a":1.0,"a":2}]}',
        '{"email":"a","password":"b","email":3}',
        '{"email":3,"password":"b","email":"ok"}',
        '{"Email":"a","password":"b"}',
        '{"em\\u0061il":"a","password":"b"}',
        '{"email":"\\ud83d\\ude00","password":"b","role":null}',
        '{"email":"caf\\u00e9 \\"q\\"","password":"p\\nw","zz":"<&>"}',
        '{"\\u00e9":1e16,"email":"a","password":"b"}',
        '{"big":100000000000000000000000,"email":"a","password":"b"}',
        "[]",
        "[1,2]",
        '"str"',
        "42",
        "4.20",
        "true",
        "false",
        "null",
        " null ",
        " ",
        "\n",
        "{",
        "[",
        "{\"a\"",
        "{\"a\" 1}",
        "{\"a\":1 \"b\"}",
        "{1:2}",
        "{'a':1}",
        "{\"a\":}",
        "[1 2]",
        "[1,,2]",
        "tru",
        "nul",
        "-",
        "-I",
        "1.e5",
        "01",
        "{\"a\":01}",
        "  [1] x",
        "{} {}",
        '"ab',
        '"a\\q"',
        '"a\x01"',
        '"\u00e9\x01"',
        '"\\u12"',
        '"\\u0041',
        '"\\ud800\\u12"',
        '"\\ud800\\',
        '{"a":"\\u12x"}',
        "{\"\u00e9\u00e9\": x}",
        '{"email":"a","password":"b"} ',
        '\ufeff{"email":"a","password":"b"}',
        '{"email":"a\\u0000b","password":"pw"}',
        '{"email":"\\u0000","password":"\\u0000","role":"\\u0000admin"}',
        '{"email":"a\\u0001\\u001f\\u007f","password":"\\u0000","zz":"\\u0000"}',
        '{"email":"a","password":"b","event_id":"7\\u0000"}',
    ],
    "MFAVerifyRequest": [
        '{"code":"12345"}',
        '{"code":"1234567"}',
        '{"code":"123456"}',
        '{"code":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}',
        '{"code":"\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600\U0001F600"}',
        '{"code":""}',
        '{"code":123456}',
        '{"code":"\\u0000"}',
        '{"code":"12345\\u0000"}',
    ],
    "OperatorLoginRequest": [
        '{"email":"ab","password":"","dev_type":"pos","dev_mac":""}',
        '{"email":"abc","password":"x","dev_type":"POS","dev_mac":"m"}',
        '{"email":"abc","password":"x","dev_type":"POS\\n","dev_mac":"m"}',
        '{"email":"abc","password":"x","dev_type":" POS","dev_mac":"' + "m" * 65 + '"}',
        '{"dev_mac":"m"}',
        '{"email":"ab\\u0000","password":"x","dev_type":"POS\\u0000","dev_mac":"\\u0000"}',
    ],
    "PasswordResetRequestBody": [
        '{"email":"a@b.c"}',
        '{"email":"a b@c.d"}',
        '{"email":"a\\u00a0b@c.d"}',
        '{"email":"a\\u2003b@c.d"}',
        '{"email":"a\\u000bb@c.d"}',
        '{"email":"a\\u0085b@c.d"}',
        '{"email":"a\\u200bb@c.d"}',
        '{"email":"a@b"}',
        '{"email":"a@"}',
        '{"email":"a\\u0000@b.c"}',
        '{"email":"\\u0000"}',
    ],
    "APIKeyRequest": [
        '{"event_id":1,"name":"n","scopes":["a","b"]}',
        '{"event_id":1,"name":"n","scopes":"a"}',
        '{"event_id":1,"name":"n","scopes":{"a":1}}',
        '{"event_id":1,"name":"n","scopes":["a",2,null,["x"]]}',
        '{"event_id":"1","name":"","scopes":[]}',
        '{"scopes":null}',
        '{"event_id":1,"name":"k\\u0000","scopes":["a","\\u0000",3,"b\\u0000c"]}',
    ],
    "OfflineTokenRequest": [
        '{"event_id":1,"device_id":null}',
        '{"event_id":1,"device_id":5}',
        '{"event_id":1,"device_id":"5"}',
        '{"event_id":1,"device_id":"5\\u0000"}',
    ],
    "TokenVerifyRequest": [
        '{"token":"abc"}',
        '{"token":"abc","token":5}',
        '{"token":5,"token":"abc"}',
        '{"token":""}',
        '{"token":["abc"]}',
        '{"tokens":"abc"}',
        '{"token":"abc\\u0000"}',
        '{"token":"\\u0000","token":"abc"}',
    ],
    "DeviceTokenRequest": [
        '{"operator_id":"12"}',
        '{"operator_id":12.0}',
        '{"operator_id":"1e3"}',
    ],
    "ValidationError": [
        '{"loc":["body",0],"msg":"m","type":"t","input":{"a":[1,2.5]},"ctx":{"k":1},"extra":1}',
        '{"loc":[1.5,null,"5",5.0,true],"msg":"m","type":"t"}',
        '{"loc":"ab","msg":1,"type":"t","ctx":[1]}',
    ],
    "TokenVerifyResponse": [
        '{"valid":true,"claims":null}',
        '{"valid":"yes","claims":{"a":1}}',
        '{"valid":"YES"}',
        '{"valid":"maybe"}',
        '{"valid":2}',
        '{"valid":1.0}',
        '{"valid":0.5}',
        '{"valid":null,"claims":[]}',
        '{"claims":"x"}',
    ],
}

PARAMS = [
    ("path", "key_id", int, ["5", "abc", " 5 ", "5.0", "5.5", "", "-3", "1_0", "99999999999999999999"]),
    ("path", "device_id", int, ["0", "x1"]),
    ("path", "token", Text, ["abc", "", "a\x00b"]),
]


def fastapi_body(model, body: bytes):
    if not body:
        return [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as e:
        return [{"type": "json_invalid", "loc": ["body", e.pos], "msg": "JSON decode error",
                 "input": {}, "ctx": {"error": e.msg}}]
    if obj is None:
        return [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    try:
        TypeAdapter(model).validate_python(obj, from_attributes=True)
    except ValidationError as e:
        out = []
        for err in e.errors(include_url=False):
            item = {"type": err["type"], "loc": ["body", *err["loc"]], "msg": err["msg"], "input": err["input"]}
            if "ctx" in err:
                item["ctx"] = err["ctx"]
            out.append(item)
        return out
    return None


def fastapi_param(where, name, typ, raw):
    try:
        TypeAdapter(typ).validate_python(raw)
    except ValidationError as e:
        return [{"type": err["type"], "loc": [where, name, *err["loc"]], "msg": err["msg"],
                 "input": err["input"], **({"ctx": err["ctx"]} if "ctx" in err else {})}
                for err in e.errors(include_url=False)]
    return None


def fastapi_encode(o):
    # jsonable_encoder's last resort for an object it has no encoder for: vars(o).
    if isinstance(o, Exception):
        return vars(o)
    raise TypeError(f"cannot encode {o!r}")


def main():
    cases = []
    for schema, bodies in BODIES.items():
        for body in bodies:
            cases.append({"schema": schema, "body": body,
                          "want": fastapi_body(MODELS[schema], body.encode())})
    cases.append({"schema": "LoginRequest", "body": "", "want": fastapi_body(LoginRequest, b"")})
    params = []
    for where, name, typ, raws in PARAMS:
        for raw in raws:
            params.append({"in": where, "name": name, "type": "str" if typ is Text else typ.__name__, "raw": raw,
                           "want": fastapi_param(where, name, typ, raw)})
    json.dump({"pydantic": pydantic.VERSION, "python": sys.version.split()[0],
               "bodies": cases, "params": params},
              sys.stdout, ensure_ascii=False, indent=1, allow_nan=False, default=fastapi_encode)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
