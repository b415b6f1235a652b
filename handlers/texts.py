"""Every user-facing Chinese message of the handlers package, in one place for review.

A flat module of constants and ``str.format`` templates, grouped by feature. Add new groups at the
end with a comment header; keep identifiers English and the text Chinese.
"""

# --- Policy profiles (handlers/policy.py) -------------------------------------------------------
PROFILE_UNKNOWN = "没有名为“{name}”的政策配置，可用的有：{available}"
PROFILE_KEY_UNKNOWN = "政策设置 {key} 不存在"
PROFILE_KEY_MISSING = "政策配置 {profile} 缺少设置 {key}"
PROFILE_KEY_NOT_TABLE = "政策设置 {key} 应为一组设置（表），实际为“{value}”"
PROFILE_KEY_BAD_TYPE = "政策设置 {key} 的值“{value}”不合适：应为{expected}"
PROFILE_EXPECT_INT = "非负整数"
PROFILE_EXPECT_BOOL = "true 或 false"
PROFILE_EXPECT_STR = "文字"
PROFILE_EXPECT_STR_LIST = "文字列表"
PROFILE_EXPECT_RATIO = "0到1之间的比例（如 0.8 或 \"1/3\"）"
PROFILE_EXPECT_CHOICE = "以下之一：{choices}"

# --- ID numbers and masking (R04, handlers/idcard.py) ---------------------------------------------
ID_BAD_LENGTH = "身份证号应为18位，收到的是 {length} 位"
ID_BAD_CHARS = "身份证号前17位只能是数字，第18位只能是数字或X（第 {position} 位是“{char}”）"
ID_BAD_CHECK_DIGIT = "身份证号校验位不符（第18位是 {actual}），请核对号码是否输错"
ID_BAD_REGION = "身份证号地区码首位应为1至8，实际为 {digit}"
ID_BAD_BIRTH_DATE = "身份证号中的出生日期 {text} 不存在"
ID_BIRTH_IN_FUTURE = "身份证号中的出生日期 {birth:%Y-%m-%d} 晚于今天"
ID_BIRTH_TOO_OLD = "身份证号中的出生日期 {birth:%Y-%m-%d} 早于 {year} 年，不可能"
ID_GENDER_UNKNOWN = "性别应填“男”或“女”，实际为“{text}”"
ID_GENDER_MISMATCH = "性别与身份证号不符：花名册为“{given}”，身份证号第17位表示“{actual}”"

# --- Training plans (R01, R03, handlers/plans.py) ---------------------------------------------------
PLAN_FIELD_LABELS = {
    "code": "班级编号",
    "name": "班级名称",
    "occupation": "职业/工种",
    "institution": "培训机构",
    "district": "旗县区",
    "mode": "授课方式",
    "start_date": "开始日期",
    "end_date": "结束日期",
    "total_hours": "总课时",
    "online_hours": "线上课时",
    "lesson_minutes": "每课时分钟数",
    "policy": "政策配置",
    "platform": "线上平台",
    "platform.name": "线上平台名称",
    "platform.url": "线上平台网址",
    "teachers": "授课讲师",
    "class_teacher": "班主任",
    "sessions": "每日课程时段",
    "materials": "培训资料",
    "commitment_file": "承诺书文件",
    "overrides": "政策设置调整",
    "live_ids": "直播编号",
}
PLAN_MODE_LABELS = {"live": "直播", "recorded": "录播", "platform": "平台资源"}

PLAN_ERRORS_HEADER = "培训计划有 {count} 个问题："
PLAN_NOT_TOML = "培训计划不是有效的 TOML 文件：{detail}"
PLAN_MISSING = "缺少必填字段 {field}（{label}）"
PLAN_UNKNOWN_FIELD = "不认识的字段 {field}，请检查拼写"
PLAN_EXPECT_TEXT = "字段 {field}（{label}）应为非空文字，实际为“{value}”"
PLAN_EXPECT_TEXT_LIST = "字段 {field}（{label}）应为非空文字的列表，实际为“{value}”"
PLAN_EXPECT_TABLE = "字段 {field}（{label}）应为表，实际为“{value}”"
PLAN_EXPECT_POSITIVE_INT = "字段 {field}（{label}）应为正整数，实际为“{value}”"
PLAN_BAD_DATE = "字段 {field}（{label}）不是有效日期（YYYY-MM-DD），实际为“{value}”"
PLAN_END_BEFORE_START = "结束日期 {end:%Y-%m-%d} 早于开始日期 {start:%Y-%m-%d}"
PLAN_BAD_MODE = "授课方式 mode 应为以下之一：{allowed}；实际为“{value}”"
PLAN_BAD_URL = "线上平台网址 platform.url 应以 http:// 或 https:// 开头，实际为“{value}”"
PLAN_NO_SESSIONS = "没有每日课程时段：至少需要一个 [[sessions]]（name、start、end）"
PLAN_SESSION_NOT_TABLE = "第 {index} 个课程时段应为表（name、start、end），实际为“{value}”"
PLAN_SESSION_BAD_NAME = "第 {index} 个课程时段缺少名称 name（如“上午”）"
PLAN_SESSION_DUPLICATE_NAME = "课程时段名称“{name}”重复"
PLAN_SESSION_BAD_TIME = "课程时段“{name}”的 {field} 应为 HH:MM 格式的时间，实际为“{value}”"
PLAN_SESSION_END_NOT_AFTER_START = "课程时段“{name}”的结束时间 {end:%H:%M} 不晚于开始时间 {start:%H:%M}"
PLAN_SESSIONS_OVERLAP = (
    "课程时段“{first}”（{first_start:%H:%M}–{first_end:%H:%M}）与"
    "“{second}”（{second_start:%H:%M}–{second_end:%H:%M}）重叠"
)
PLAN_SESSION_UNKNOWN_FIELD = "课程时段“{name}”中不认识的字段 {field}"
PLAN_ONLINE_OVER_TOTAL = "线上课时 {online} 超过总课时 {total}"
PLAN_UNKNOWN_POLICY = "政策配置“{name}”不存在，可用的有：{available}"
PLAN_BAD_OVERRIDES = "政策设置调整 overrides 有误：{detail}"
PLAN_LESSON_MINUTES_CONFLICT = (
    "lesson_minutes = {plan} 与 overrides 中的 plan.lesson_minutes = {override} 不一致"
)
# R03: online share limits of the class's profile.
PLAN_ONLINE_SHARE_OVER_MAX = "线上课时 {online} 超过总课时 {total} 的 {percent}（最多 {limit} 课时）"
PLAN_ONLINE_SHARE_UNDER_MIN = "线上课时 {online} 低于总课时 {total} 的 {percent}（至少 {limit} 课时）"

# --- Classes and status (R01, R02, handlers/classes.py) ------------------------------------------
STATUS_NAMES = {"draft": "草稿", "submitted": "已提交", "approved": "已审核", "filed": "已备案"}
NO_SUCH_CLASS = "没有编号为 {code} 的班级"
NO_SUCH_CLASS_OR_DISTRICT = "没有编号为 {scope} 的班级，也没有名为 {scope} 的旗县区"
CLASS_EXISTS = "编号为 {code} 的班级已存在"
INSTITUTION_IN_OTHER_DISTRICT = "机构“{name}”已登记在 {district}，不能在另一个旗县区开班"
BAD_TRANSITION = "班级 {code} 当前为“{current}”，不能改为“{target}”（顺序：草稿 → 已提交 → 已审核 → 已备案）"

# --- Roster import (R04, handlers/roster.py) -----------------------------------------------------
ROSTER_REJECTED = "花名册未导入（{count} 处错误，整个文件都没有写入，请改正后重新导入）："
ROSTER_ROW_ERROR = "第 {data_row} 行（表格第 {sheet_row} 行）{column}：{reason}"
ROSTER_NO_HEADER = "花名册前几行中找不到表头：需要列 {columns}"
ROSTER_MISSING_COLUMNS = "花名册缺少列：{columns}"
ROSTER_EMPTY = "花名册表头下面没有任何学员"
ROSTER_MISSING_VALUE = "未填写"
ROSTER_BAD_GENDER = "性别应填“男”或“女”，实际为“{value}”"
ROSTER_BAD_PHONE = "手机号应为 11 位数字，实际为“{value}”"
ROSTER_ID_STORED_AS_NUMBER = "身份证号被 Excel 存成了数字，末尾几位已经丢失；请把该列设为“文本”格式后重新填写"
ROSTER_DUPLICATE_IN_FILE = "与第 {row} 行的身份证号重复"
ROSTER_IDENTITY_DIFFERS = "该身份证号已登记为 {name}（{gender}），与本表不符；身份信息不能更改（R05）"
ROSTER_ALREADY_IN_CLASS = "已在本班花名册中"
ROSTER_IN_OVERLAPPING_CLASS = "已报名时间重叠的班级 {code}「{name}」（{start} 至 {end}）"

# --- Users and binding codes (handlers/accounts.py) ----------------------------------------------
UNKNOWN_ROLE = "没有“{role}”这个角色，可选：{roles}"
UNKNOWN_STAFF_ROLE = "没有“{role}”这个工作人员角色，可选：{roles}"
USER_EXISTS = "用户 {name} 已存在"
NO_SUCH_USER = "没有名为 {name} 的用户"
ROLE_NEEDS_INSTITUTION = "角色 {role} 需要用 --institution 指明所属机构"
ROLE_NEEDS_DISTRICT = "角色 district 需要用 --district 指明所属旗县区"
NO_SUCH_INSTITUTION = "没有名为“{name}”的机构（已有：{known}）"
NO_SUCH_DISTRICT = "没有名为“{name}”的旗县区（已有：{known}）"

# --- Chat: dispatch and help (handlers/dispatch.py, handlers/help.py) ----------------------------
SORRY = "抱歉，处理这条消息时出了问题，已记录下来，请稍后再试。"
UNSUPPORTED_MESSAGE = "暂不支持这种消息。请发送文字命令或图片；发送“帮助”查看可用命令。"
UNKNOWN_COMMAND = "没有看懂“{text}”。发送“帮助”查看你可以使用的命令。"
PICTURE_RECEIVED = "已收到图片。"
ONLY_IN_GROUP = "“{word}”请在班级群里 @我 发送。"
ONLY_IN_PRIVATE = "“{word}”请在与我的单聊中发送，不要在群里发（避免泄露个人信息）。"
NOT_BOUND = "你还没有绑定身份。请在与我的单聊中发送：绑定 姓名 身份证号后6位（工作人员发送：绑定 绑定码）。"
GROUP_NOT_BOUND = "本群还没有绑定班级。请班主任或督查人员在群里 @我 发送：绑定班级 班级编号"
NOT_IN_THIS_CLASS = "你不在本班的花名册中，请在自己班级的群里发送。"
ROLE_REQUIRED = "“{word}”只有{roles}可以使用。"
ROLE_NAMES = {"anyone": "所有人", "trainee": "本班学员", "teacher": "授课教师", "class_teacher": "班主任",
              "inspector": "督查人员"}
HELP_HEADER = "你可以使用的命令："

# --- Attendance (R06, handlers/attendance.py) -----------------------------------------------------
PUNCH_NAMES = {"in": "签到", "out": "签退"}
NOT_A_CLASS_DAY = "今天不是本班的培训日（培训日期 {start} 至 {end}）。"
OUTSIDE_WINDOW = "现在不在{kind}时间内。{kind}时间：{spans}。"
ALREADY_PUNCHED = "今天{session}已{kind}（{at:%H:%M}），不重复记录。"
PUNCHED = "{kind}成功 {at:%H:%M}（{session}）"
LATE = "，迟到（{due:%H:%M} 开始）"
EARLY = "，早退（{due:%H:%M} 结束）"
NOT_COUNTED_YET = "。注意：本班尚未通过旗县区审核，记录已保存，但暂不计入补贴。"
