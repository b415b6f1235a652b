"""The OpenAPI 3.0 description of the JSON API (served at ``/api/v1/openapi.json``)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_UNAUTHORIZED = _json(_ERROR, "没有或无效的接口令牌")
_NOT_FOUND = _json(_ERROR, "班级不存在或不在调用者的权限范围内（两者不加区分）")
_BAD_DATE = _json(_ERROR, "日期格式不正确（应为 YYYY-MM-DD），或带有本接口不接受的查询参数")
_BAD_QUERY = _json(_ERROR, "带有本接口不接受的查询参数")
_CODE = {"name": "code", "in": "path", "required": True, "description": "班级编号", "schema": {"type": "string"}}
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _integer(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "description": description}


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "中文说明"}},
    },
    "ClassLine": {
        "type": "object",
        "required": ["code", "name", "status", "trainees", "group_bound"],
        "additionalProperties": False,
        "properties": {
            "code": {"type": "string", "description": "班级编号"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "submitted", "returned", "approved", "filed"],
                       "description": "R02 状态：草稿、已提交、已退回（旗县区退回机构改正）、已审核（旗县区）、已备案（市）"},
            "trainees": _integer("花名册中未被删除的学员人数"),
            "group_bound": {"type": "boolean", "description": "是否已绑定钉钉班级群"},
        },
    },
    "TraineeDay": {
        "type": "object",
        "required": ["name", "checkins", "checkouts", "late", "early", "photo", "leave", "study_minutes", "day_ok"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "checkins": _integer("当日计入补贴的签到次数（R02、R06）"),
            "checkouts": _integer("当日计入补贴的签退次数"),
            "late": _integer("其中迟到的签到次数"),
            "early": _integer("其中早退的签退次数"),
            "photo": {"type": "boolean", "description": "当日有计入的学习照片（R08）"},
            "leave": {"type": "string", "enum": ["none", "pending", "approved", "rejected"],
                      "description": "当日请假状态（R07）"},
            "study_minutes": _integer("当日线上学习分钟数：直播加回看；不同场次相加，同一场次多个来源取最大值（R09）"),
            "day_ok": {"type": "boolean",
                       "description": "R09：学习分钟数达到当日计划线上分钟数（线上课时×每课时分钟数÷培训天数）的80%（按政策配置，精确比较）"},
        },
    },
    "Day": {
        "type": "object",
        "required": ["class", "date", "trainees"],
        "additionalProperties": False,
        "properties": {
            "class": {"type": "string", "description": "班级编号"},
            "date": {"type": "string", "format": "date"},
            "trainees": {"type": "array", "items": {"$ref": "#/components/schemas/TraineeDay"},
                         "description": "花名册中未被删除的学员"},
        },
    },
    "SummaryLine": {
        "type": "object",
        "required": ["name", "hours_earned", "hours_required", "ratio", "qualified", "removed"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "hours_earned": {"type": "number", "minimum": 0,
                             "description": "已学课时 = 各培训日学习分钟数之和 ÷ 每课时分钟数，一位小数（截断）"},
            "hours_required": _integer("应学课时（线上课时）"),
            "ratio": {"type": "number", "minimum": 0, "description": "已学 ÷ 应学，四位小数（截断）"},
            "qualified": {"type": "boolean", "description": "R16：比例达到政策配置的合格线（80%）且未被删除"},
            "removed": {"type": "boolean", "description": "已从补贴名单删除（R16，标记而非删除记录）"},
        },
    },
    "Summary": {
        "type": "object",
        "required": ["class", "eligible", "trainees"],
        "additionalProperties": False,
        "properties": {
            "class": {"type": "string"},
            "eligible": {"type": "boolean", "description": "R02：班级已审核或已备案，考勤计入补贴"},
            "trainees": {"type": "array", "items": {"$ref": "#/components/schemas/SummaryLine"},
                         "description": "花名册中的全部学员（含已删除者）"},
        },
    },
    "RollCall": {
        "type": "object",
        "required": ["id", "started_at", "by", "sampled", "answered", "pass_rate", "seed_commitment"],
        "additionalProperties": False,
        "properties": {
            "id": _integer("点名编号（/api/v1/rollcalls/{id}）"),
            "started_at": {"type": "string", "format": "date-time"},
            "by": {"type": "string", "description": "发起人：督查人员姓名，或“定时”"},
            "sampled": _integer("抽中人数"),
            "answered": _integer("按时应答人数"),
            "pass_rate": {"type": "number", "minimum": 0, "maximum": 1, "nullable": True,
                          "description": "应答人数 ÷ 抽中且未准假人数（分数，四位小数截断）；点名进行中为 null"},
            "seed_commitment": {"type": "string", "pattern": "^[0-9a-f]{64}$",
                                "description": "抽签前公布的随机种子的 SHA-256（R13）"},
        },
    },
    "RollCallSample": {
        "type": "object",
        "required": ["name", "answered_at", "excused"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "answered_at": {"type": "string", "format": "date-time", "nullable": True,
                            "description": "在时限内回复“到”的时间；未应答为 null"},
            "excused": {"type": "boolean", "description": "当天已准假：抽中但免答，不计入应答率分母"},
        },
    },
    "RollCallDetail": {
        "type": "object",
        "required": ["id", "class", "started_at", "by", "ratio", "window_minutes", "seed", "seed_commitment",
                     "roster_size", "sampled", "pass_rate", "passed"],
        "additionalProperties": False,
        "properties": {
            "id": _integer("点名编号"),
            "class": {"type": "string", "description": "班级编号"},
            "started_at": {"type": "string", "format": "date-time"},
            "by": {"type": "string"},
            "ratio": {"type": "number", "minimum": 0, "maximum": 1, "description": "抽查比例（分数）"},
            "window_minutes": _integer("应答时限（分钟）"),
            "seed": {"type": "string", "pattern": "^[0-9a-f]{64}$", "nullable": True,
                     "description": "随机种子；点名结束后才公布，之前为 null"},
            "seed_commitment": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "roster_size": _integer("抽签时的在册学员人数"),
            "sampled": {"type": "array", "items": {"$ref": "#/components/schemas/RollCallSample"}},
            "pass_rate": {"type": "number", "minimum": 0, "maximum": 1, "nullable": True},
            "passed": {"type": "boolean", "nullable": True, "description": "应答率达到政策配置的合格线（80%）；进行中为 null"},
        },
    },
    "Inspection": {
        "type": "object",
        "required": ["id", "at", "by", "kind", "expected", "found", "ratio", "passed"],
        "additionalProperties": False,
        "properties": {
            "id": _integer("检查编号"),
            "at": {"type": "string", "format": "date-time"},
            "by": {"type": "string", "description": "检查人"},
            "level": {"type": "string", "enum": ["city", "district"], "description": "市或旗县区的检查"},
            "kind": {"type": "string", "enum": ["video", "live", "phone"], "description": "视频、直播统计或电话检查"},
            "expected": _integer("应到人数"),
            "found": _integer("实到人数"),
            "ratio": {"type": "number", "minimum": 0, "maximum": 1, "description": "实到 ÷ 应到（分数，四位小数截断）"},
            "passed": {"type": "boolean", "description": "R14：达到政策配置的合格线（80%）"},
        },
    },
    "Certificate": {
        "type": "object",
        "required": ["number", "name", "issued_at", "revoked"],
        "additionalProperties": False,
        "properties": {
            "number": {"type": "string", "description": "结业证书编号（R20：唯一，撤销后也不再使用）"},
            "name": {"type": "string", "description": "学员姓名"},
            "issued_at": {"type": "string", "format": "date-time", "description": "发放时间"},
            "revoked": {"type": "boolean", "description": "是否已撤销"},
        },
    },
    "DailyLine": {
        "type": "object",
        "required": ["class", "trainees", "checked_in", "photos", "day_ok", "ratio"],
        "additionalProperties": False,
        "properties": {
            "class": {"type": "string", "description": "班级编号"},
            "trainees": _integer("花名册中未被删除的学员人数"),
            "checked_in": _integer("当日至少有一次计入补贴的签到的学员人数"),
            "photos": _integer("当日有计入的学习照片的学员人数"),
            "day_ok": _integer("当日学习时长达标（R09）的学员人数"),
            "ratio": {"type": "number", "minimum": 0, "maximum": 1,
                      "description": "day_ok ÷ trainees，四位小数（截断）"},
            "district": {"type": "string", "description": "旗县区"},
            "checked_out": _integer("当日至少有一次计入补贴的签退的学员人数"),
            "late": _integer("迟到的签到次数"),
            "early": _integer("早退的签退次数"),
            "photos_flagged": _integer("当日待审核的学习照片张数（R08）"),
            "leave": _integer("当日请假人数（任何状态）"),
            "homework_posted": _integer("当日布置的作业份数（R10）"),
            "homework_submitted": _integer("当日交的作业份数"),
            "homework_late": _integer("其中迟交的份数"),
            "homework_checked": _integer("当日批改的作业份数"),
            "questions": _integer("当日提问数"),
            "answered": _integer("当日回答了的问题数"),
            "qa_sessions": _integer("当日开始的答疑场次"),
            "spot_checks": _integer("当日抽查次数"),
            "spot_checks_required": _integer("政策配置要求的每日抽查次数"),
            "ledger_head": {
                "type": "object", "nullable": True, "additionalProperties": False,
                "required": ["chain", "class", "seq", "hash", "at", "verified", "key_id", "signature"],
                "description": "R17：本班台账链在当日结束时的链头及其签名（与 dingclass ledger heads 的存证格式相同，"
                               "可放入存证文件交 verify --anchor 核对）；未签名时 at、key_id、signature 为 null；"
                               "只对 admin、city、district 给出，其他角色为 null",
                "properties": {
                    "chain": _integer("台账链（班级 id）"),
                    "class": {"type": "string", "description": "班级编号"},
                    "seq": _integer("链上序号"),
                    "hash": {"type": "string", "description": "该事件的 SHA-256"},
                    "at": {"type": "string", "format": "date-time", "nullable": True, "description": "签署时间"},
                    "verified": {"type": "boolean", "description": "总为 false：日报签署的链头不是校验后签署的"},
                    "key_id": {"type": "string", "nullable": True, "description": "签名密钥编号"},
                    "signature": {"type": "string", "nullable": True, "description": "Ed25519 签名（十六进制）"},
                },
            },
        },
    },
    "Assignment": {
        "type": "object",
        "required": ["id", "posted_at", "by", "title", "due", "submitted", "late", "checked"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1, "description": "作业编号（本班从1起，群里“交作业 编号”用的就是它）"},
            "posted_at": {"type": "string", "format": "date-time"},
            "by": {"type": "string", "description": "布置的教师"},
            "title": {"type": "string", "description": "作业内容"},
            "due": {"type": "string", "format": "date-time", "nullable": True, "description": "截止时间，未设为 null"},
            "submitted": _integer("已交人数"),
            "late": _integer("其中迟交人数"),
            "checked": _integer("已批改的份数"),
        },
    },
    "QaSession": {
        "type": "object",
        "required": ["id", "started_at", "ended_at", "questions", "answered"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1, "description": "答疑场次编号（本班从1起）"},
            "started_at": {"type": "string", "format": "date-time"},
            "ended_at": {"type": "string", "format": "date-time", "nullable": True, "description": "未结束为 null"},
            "questions": _integer("本场的提问数（含此前留下、在本场开始时并入的问题）"),
            "answered": _integer("其中已回答的"),
            "session": {"type": "string", "nullable": True,
                        "description": "R06：录播、平台资源班的答疑即签到签退时段，此为它所占的当天答疑时段名（如“下午”）；"
                                       "直播班或不计签到签退的答疑为 null"},
            "checked_in": {"type": "integer", "minimum": 0, "nullable": True, "description": "R06：本场答疑的签到人数（同上，否则 null）"},
            "checked_out": {"type": "integer", "minimum": 0, "nullable": True, "description": "R06：本场答疑的签退人数（同上，否则 null）"},
        },
    },
    "LedgerCheck": {
        "type": "object",
        "required": ["ok", "events", "head", "at"],
        "additionalProperties": False,
        "properties": {
            "ok": {"type": "boolean", "nullable": True,
                   "description": "上次完成的校验：各链完整、签名检查点相符且每条记录与台账一致（R17）；从未校验过时为 null"},
            "events": _integer("台账事件数（各链之和）"),
            "head": {"type": "string", "pattern": "^[0-9a-f]{64}$", "nullable": True,
                     "description": "链头摘要：对各条链（链、序号、哈希）的一个 SHA-256；只对 admin、city、district 给出，其他角色为 null"},
            "at": {"type": "string", "format": "date-time", "nullable": True, "description": "校验完成时间（UTC）"},
        },
    },
}


def _get(summary: str, description: str, ok: dict[str, Any], parameters: list | None = None,
         extra: dict[str, Any] | None = None, public: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    if not public:
        responses["400"] = _BAD_QUERY
        responses["401"] = _UNAUTHORIZED
    responses.update(extra or {})
    operation: dict[str, Any] = {"summary": summary, "description": description, "parameters": parameters or [],
                                 "responses": responses}
    if public:
        operation["security"] = []
    return {"get": operation}


def spec() -> dict[str, Any]:
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "dingclass API",
            "version": "1",
            "description": "钉钉班级群线上职业技能培训监管的只读接口。令牌用 `dingclass user token NAME` 签发；"
                           "数据范围与管理后台相同：机构只见本机构的班级，旗县区只见本旗县区的，教师只见自己任教的，"
                           "市级与系统管理员见全部。",
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/classes": _get(
                "班级列表", "调用者可见的全部班级。",
                _json({"type": "array", "items": ref("ClassLine")}, "班级列表"),
            ),
            "/api/v1/classes/{code}/days/{date}": _get(
                "某班某日", "一个培训日里每名学员的签到签退、照片、请假、学习分钟数与是否达标（R06–R09）。",
                _json(ref("Day"), "该日每名学员的记录"),
                parameters=[_CODE, {"name": "date", "in": "path", "required": True, "description": "YYYY-MM-DD",
                                    "schema": {"type": "string", "format": "date", "pattern": _DATE_PATTERN}}],
                extra={"400": _BAD_DATE, "404": _json(_ERROR, "班级不存在、不在权限范围内，或该日不是培训日")},
            ),
            "/api/v1/classes/{code}/summary": _get(
                "合格情况", "每名学员的已学/应学课时、完成比例、是否合格、是否删除（R09、R16）；班级是否计入补贴（R02）。",
                _json(ref("Summary"), "班级汇总"),
                parameters=[_CODE], extra={"404": _NOT_FOUND},
            ),
            "/api/v1/classes/{code}/rollcalls": _get(
                "随机点名记录", "R13 随机点名记录，最新的在前。",
                _json({"type": "array", "items": ref("RollCall")}, "点名记录"),
                parameters=[_CODE], extra={"404": _NOT_FOUND},
            ),
            "/api/v1/rollcalls/{id}": _get(
                "一次点名", "R13：抽中的学员、应答时间、应答率与是否合格；种子在点名结束后公布，可按 README 复核。",
                _json(ref("RollCallDetail"), "点名详情"),
                parameters=[{"name": "id", "in": "path", "required": True, "description": "点名编号",
                             "schema": {"type": "integer", "minimum": 1}}],
                extra={"404": _NOT_FOUND},
            ),
            "/api/v1/classes/{code}/inspections": _get(
                "检查记录", "R14：市、旗县区对班级的视频、直播统计、电话检查，最新的在前。",
                _json({"type": "array", "items": ref("Inspection")}, "检查记录"),
                parameters=[_CODE], extra={"404": _NOT_FOUND},
            ),
            "/api/v1/classes/{code}/homework": _get(
                "作业", "R10：本班布置的作业及交、迟交、批改人数。",
                _json({"type": "array", "items": ref("Assignment")}, "作业列表"),
                parameters=[_CODE], extra={"404": _NOT_FOUND},
            ),
            "/api/v1/classes/{code}/qa": _get(
                "答疑", "R10：本班的答疑场次及提问、回答数。",
                _json({"type": "array", "items": ref("QaSession")}, "答疑场次"),
                parameters=[_CODE], extra={"404": _NOT_FOUND},
            ),
            "/api/v1/classes/{code}/certificates": _get(
                "证书编号", "R20：市级为本班合格学员发放的结业证书编号（含已撤销的），按编号排序。",
                _json({"type": "array", "items": ref("Certificate")}, "证书编号"),
                parameters=[_CODE], extra={"404": _NOT_FOUND},
            ),
            "/api/v1/reports/daily": _get(
                "日报", "R11：当日（默认今天，按 DINGCLASS_TIMEZONE）正在培训的各可见班级的汇总，含作业、答疑与抽查（R10）。",
                _json({"type": "array", "items": ref("DailyLine")}, "各班当日汇总"),
                parameters=[{"name": "date", "in": "query", "required": False, "description": "YYYY-MM-DD，默认今天",
                             "schema": {"type": "string", "format": "date", "pattern": _DATE_PATTERN}}],
                extra={"400": _BAD_DATE},
            ),
            "/api/v1/ledger/verify": _get(
                "台账校验", "R17：上次完成的台账校验结果（校验在后台进行，由管理员在管理后台发起或由 dingclass verify 运行）。",
                _json(ref("LedgerCheck"), "校验结果"),
            ),
            "/api/v1/openapi.json": _get(
                "接口说明", "本文档（无需令牌）。",
                _json({"type": "object"}, "OpenAPI 3.0 文档"), public=True,
            ),
        },
    }
