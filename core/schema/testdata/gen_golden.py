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
from enum import Enum
from typing import Annotated, Any, Literal, Optional, Union
from uuid import UUID

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema


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


# What a login provider's request body reasonably needs beyond the legacy contract: Literal and
# Enum choices, numeric bounds, list lengths, unions. Their schemas are not in the contract, so
# they are published here as pydantic (hence FastAPI) would, under "schemas".
class Color(str, Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Level(int, Enum):
    one = 1
    two = 2
    neg = -1


class ProviderLoginRequest(Strict):
    provider: Literal["oidc", "saml", "it's"]
    prompt: Optional[Literal["none", "login"]] = None
    display: Literal["page"] = "page"
    acr: Literal[1, 2, 3] = 1
    mixed: Literal["a", 1] = "a"
    color: Color = Color.red
    level: Level = Level.one
    max_age: int = Field(default=0, ge=0, le=86400)
    step: int = Field(default=0, multiple_of=5, ge=-10, lt=100)
    ratio: float = Field(default=0.5, gt=0, lt=1.5)
    temp: float = Field(default=0.0, ge=-1e-7, le=1e20)
    scopes: list[Text] = Field(default=["openid"], min_length=1, max_length=3)
    pair: list[int] = Field(default=[0, 0], min_length=2, max_length=2)
    nonce: Text = Field(default="n", pattern=r"^[A-Za-z0-9_-]{1,8}$")
    opt: Optional[Annotated[int, Field(gt=0)]] = None


class ProviderUnionRequest(Strict):
    sub: Union[Annotated[int, Field(ge=0)], Literal["a", "b"], Color, Annotated[str, Field(max_length=2)]]
    lvl: Union[Level, bool] = Level.one
    num: Union[Annotated[float, Field(lt=1)], str] = 0.0


class ProviderDeviceRequest(Strict):
    device: UUID
    maybe: Optional[UUID] = None
    either: Union[UUID, int] = 0


NEW_MODELS = {
    "ProviderLoginRequest": ProviderLoginRequest,
    "ProviderUnionRequest": ProviderUnionRequest,
    "ProviderDeviceRequest": ProviderDeviceRequest,
    "Color": Color,
    "Level": Level,
}

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
    **NEW_MODELS,
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

OK_PROVIDER = '"provider":"oidc"'


def provider(extra):
    return "{" + OK_PROVIDER + "," + extra + "}"


BODIES.update({
    "ProviderLoginRequest": [
        "{" + OK_PROVIDER + "}",
        "{}",
        '{"provider":"OIDC"}',
        '{"provider":" oidc"}',
        '{"provider":"it\'s"}',
        '{"provider":1}',
        '{"provider":null}',
        '{"provider":["oidc"]}',
        '{"provider":"oidc\u0000"}',
        provider('"prompt":null'),
        provider('"prompt":"login"'),
        provider('"prompt":"consent"'),
        provider('"display":"page"'),
        provider('"display":"popup"'),
        provider('"acr":2'),
        provider('"acr":"2"'),
        provider('"acr":2.0'),
        provider('"acr":2.5'),
        provider('"acr":true'),
        provider('"acr":false'),
        provider('"acr":4'),
        provider('"acr":100000000000000000000'),
        provider('"mixed":1'),
        provider('"mixed":"1"'),
        provider('"mixed":1.0'),
        provider('"mixed":"b"'),
        provider('"color":"green"'),
        provider('"color":"GREEN"'),
        provider('"color":1'),
        provider('"color":null'),
        provider('"level":2'),
        provider('"level":-1'),
        provider('"level":"2"'),
        provider('"level":" -1 "'),
        provider('"level":"+1"'),
        provider('"level":"01"'),
        provider('"level":"1.00"'),
        provider('"level":"1_0"'),
        provider('"level":"1e0"'),
        provider('"level":"1."'),
        provider('"level":""'),
        provider('"level":"x"'),
        provider('"level":2.0'),
        provider('"level":1.5'),
        provider('"level":true'),
        provider('"level":false'),
        provider('"level":3'),
        provider('"level":1e20'),
        provider('"level":[1]'),
        provider('"max_age":0'),
        provider('"max_age":86400'),
        provider('"max_age":86401'),
        provider('"max_age":-1'),
        provider('"max_age":"-1"'),
        provider('"max_age":" 5 "'),
        provider('"max_age":86401.0'),
        provider('"max_age":true'),
        provider('"max_age":"x"'),
        provider('"max_age":1.5'),
        provider('"step":95'),
        provider('"step":100'),
        provider('"step":7'),
        provider('"step":-15'),
        provider('"step":-11'),
        provider('"step":-10'),
        provider('"step":"105"'),
        provider('"ratio":0'),
        provider('"ratio":0.0'),
        provider('"ratio":1e-300'),
        provider('"ratio":1.4999999'),
        provider('"ratio":1.5'),
        provider('"ratio":"1.5"'),
        provider('"ratio":true'),
        provider('"ratio":false'),
        provider('"ratio":-1'),
        provider('"temp":-1e-7'),
        provider('"temp":-1e-6'),
        provider('"temp":1e20'),
        provider('"temp":1.0000001e20'),
        provider('"temp":123456789012345678901234567890'),
        provider('"scopes":[]'),
        provider('"scopes":["a"]'),
        provider('"scopes":["a","b","c"]'),
        provider('"scopes":["a","b","c","d"]'),
        provider('"scopes":[1,2,3,4]'),
        provider('"scopes":[1]'),
        provider('"scopes":"abc"'),
        provider('"scopes":["a\u0000"]'),
        provider('"pair":[1]'),
        provider('"pair":["x"]'),
        provider('"pair":[1,"2"]'),
        provider('"pair":[1,2,3]'),
        provider('"pair":["x",2,3]'),
        provider('"pair":{}'),
        provider('"nonce":"abc-_9"'),
        provider('"nonce":"abc def"'),
        provider('"nonce":"123456789"'),
        provider('"opt":null'),
        provider('"opt":0'),
        provider('"opt":"3"'),
        provider('"opt":"x"'),
        '{"provider":"x","acr":9,"color":"x","level":9,"max_age":-1,"ratio":2,"scopes":[],"zz":1}',
        '{"provider":"oidc","provider":"nope"}',
        '{"provider":"oi\\u0064c"}',
        '{"provider":"oidc\\n"}',
        '{"provider":"\\u00e9"}',
        '{"provider":"\\ud83d\\ude00"}',
        '{"provider":{"oidc":1,"oidc":2}}',
        provider('"level":"\\u0661"'),
        provider('"level":"\\u00a01\\u3000"'),
        provider('"level":"2\\u0000"'),
        provider('"max_age":"\\u0661"'),
        provider('"ratio":-0.0'),
        provider('"step":-9223372036854775808'),
        provider('"step":9223372036854775807'),
        provider('"scopes":[[],{},null]'),
        provider('"pair":[1,2],"pair":[1]'),
        '{"provider":"nope","provider":"saml"}',
    ],
    "ProviderUnionRequest": [
        '{"sub":0}',
        '{"sub":-1}',
        '{"sub":"a"}',
        '{"sub":"5"}',
        '{"sub":"red"}',
        '{"sub":"xy"}',
        '{"sub":"abc"}',
        '{"sub":[1]}',
        '{"sub":null}',
        '{"sub":1.0}',
        '{"sub":true}',
        '{"sub":0,"lvl":2}',
        '{"sub":0,"lvl":"2"}',
        '{"sub":0,"lvl":true}',
        '{"sub":0,"lvl":"yes"}',
        '{"sub":0,"lvl":7}',
        '{"sub":0,"num":0.5}',
        '{"sub":0,"num":2}',
        '{"sub":0,"num":"2"}',
        '{"sub":0,"num":true}',
        '{"sub":0,"num":[]}',
    ],
    "ProviderDeviceRequest": [
        '{"device":"12345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678123456781234567812345678"}',
        '{"device":"{12345678-1234-5678-1234-567812345678}"}',
        '{"device":"urn:uuid:12345678-1234-5678-1234-567812345678"}',
        '{"device":"x"}',
        '{"device":""}',
        '{"device":"1234567-81234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-1234-56781234567"}',
        '{"device":"12345678-1234-5678-1234-56781234567g"}',
        '{"device":"g2345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-1234"}',
        '{"device":"1234567812345678123456781234567"}',
        '{"device":"123456781234567812345678123456789"}',
        '{"device":" 12345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-1234-567812345678 "}',
        '{"device":"12345678_1234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-1234-5678-12345678"}',
        '{"device":"\\u00e92345678-1234-5678-1234-567812345678"}',
        '{"device":"\\u20ac2345678-1234-5678-1234-567812345678"}',
        '{"device":"{12345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678123456781234567812345678z"}',
        '{"device":"1234567812345678123456781234567z"}',
        '{"device":"urn:uuid:x"}',
        '{"device":"URN:UUID:12345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-1234-567812345678}"}',
        '{"device":"---------------------------------"}',
        '{"device":"{12345678-1234-5678-1234-56781234567}"}',
        '{"device":"{12345678-1234-5678-1234-567812345670}"}',
        '{"device":"urn:uuid:12345678-1234-5678-1234-5678123456700"}',
        '{"device":"{}"}',
        '{"device":"{-}"}',
        '{"device":"urn:uuid:"}',
        '{"device":"1-2-3-4-5"}',
        '{"device":"\\u00002345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-12345-67812345678"}',
        '{"device":5}',
        '{"device":null}',
        '{"device":["12345678-1234-5678-1234-567812345678"]}',
        '{"device":"12345678-1234-5678-1234-567812345678","maybe":null,"either":"12345678-1234-5678-1234-567812345678"}',
        '{"device":"12345678-1234-5678-1234-567812345678","maybe":"x","either":"7"}',
        '{"device":"12345678-1234-5678-1234-567812345678","either":"x"}',
        '{"device":"12345678-1234-5678-1234-567812345678","either":1.5}',
        '{}',
    ],
    "Color": ['"red"', '"RED"', "1", "null", "{}"],
    "Level": ["1", '"1"', '"x"', "true", "1.0", "4"],
})

PARAMS = [
    ("path", "key_id", int, ["5", "abc", " 5 ", "5.0", "5.5", "", "-3", "1_0", "99999999999999999999"]),
    ("path", "device_id", int, ["0", "x1"]),
    ("path", "token", Text, ["abc", "", "a\x00b"]),
    ("query", "level", Level, ["1", " 2 ", "1.0", "1_0", "x", "3"]),
    ("query", "color", Color, ["red", "RED", ""]),
    ("query", "prompt", Literal["none", "login"], ["none", "x"]),
    ("query", "acr", Literal[1, 2], ["1"]),
    ("path", "device", UUID, ["12345678-1234-5678-1234-567812345678", "{12345678-1234-5678-1234-567812345678}", "x", ""]),
    ("query", "max_age", Annotated[int, Field(ge=0, le=10)], ["0", "11", "-1", "x", "5.0"]),
    ("query", "ratio", Annotated[float, Field(gt=0, lt=1.5)], ["0.5", "0", "1.5", "x"]),
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


def param_type(typ):
    """The parameter's schema as FastAPI publishes it, or the name of a plain type."""
    if typ is Text:
        return "str"
    if typ in (int, str):
        return typ.__name__
    if isinstance(typ, type) and issubclass(typ, Enum):
        return {"$ref": "#/components/schemas/" + typ.__name__}
    return TypeAdapter(typ).json_schema(ref_template="#/components/schemas/{model}")


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
            params.append({"in": where, "name": name, "type": param_type(typ), "raw": raw,
                           "want": fastapi_param(where, name, typ, raw)})
    _, defs = models_json_schema([(m, "validation") for m in NEW_MODELS.values() if issubclass(m, BaseModel)],
                                 ref_template="#/components/schemas/{model}")
    json.dump({"pydantic": pydantic.VERSION, "python": sys.version.split()[0],
               "schemas": {"components": {"schemas": defs["$defs"]}},
               "bodies": cases, "params": params},
              sys.stdout, ensure_ascii=False, indent=1, allow_nan=False, default=fastapi_encode)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
