"""Setting up a class: policy profiles, ID numbers, training plans and their changes, class status and the district's approval (R01-R04), the roster import, users and binding codes, input hygiene.

A flat module of constants and ``str.format`` templates, grouped by feature; identifiers English, text Chinese.
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
    "rest_weekdays": "每周休息日",
    "rest_dates": "休息日期",
    "extra_dates": "加课日期",
    "days": "按日课程安排",
    "theory_hours": "理论课时",
    "subsidy_standard": "补贴标准（元/人）",
    "online_approval": "线上课时超出理论课时的批准",
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
PLAN_EXPECT_DATE_LIST = "字段 {field}（{label}）应为日期（YYYY-MM-DD）的列表，实际为“{value}”"
PLAN_DATE_REPEATED = "字段 {field}（{label}）中日期 {value:%Y-%m-%d} 重复"
PLAN_BAD_WEEKDAYS = "字段 {field}（{label}）应为 1（星期一）到 7（星期日）的数字列表，实际为“{value}”"
PLAN_BAD_AMOUNT = "字段 {field}（{label}）应为正数（元，最多两位小数），实际为“{value}”"
PLAN_DATE_OUTSIDE = "字段 {field}（{label}）中的 {day:%Y-%m-%d} 不在培训期 {start:%Y-%m-%d} 至 {end:%Y-%m-%d} 内"
PLAN_DATE_REST_AND_EXTRA = "日期 {day:%Y-%m-%d} 同时列为休息日期和加课日期"
PLAN_DAY_NOT_TABLE = "第 {index} 个 [[days]] 应为只含 date 和 sessions 的表，实际为“{value}”"
PLAN_DAY_BAD_DATE = "第 {index} 个 [[days]] 的 date 不是有效日期（YYYY-MM-DD），实际为“{value}”"
PLAN_DAY_BAD_SESSIONS = "[[days]] {day:%Y-%m-%d} 的 sessions 应为课程时段名称的非空列表，实际为“{value}”"
PLAN_DAY_REPEATED = "[[days]] 中日期 {day:%Y-%m-%d} 重复"
PLAN_DAY_NOT_CLASS_DAY = "[[days]] 中的 {day:%Y-%m-%d} 不是培训日（不在培训期内或是休息日）"
PLAN_DAY_UNKNOWN_SESSION = "[[days]] {day:%Y-%m-%d} 中的课程时段“{name}”不存在，已有：{known}"
PLAN_NO_CLASS_DAYS = "课程表中没有任何培训日（培训期内每天都是休息日）"
PLAN_SESSION_BAD_LESSONS = "课程时段“{name}”的 online_lessons（线上课时数）应为非负整数，实际为“{value}”"
PLAN_SESSION_BAD_PRACTICAL = "课程时段“{name}”的 practical（是否实训）应为 true 或 false，实际为“{value}”"
PLAN_SESSION_PRACTICAL_ONLINE = "课程时段“{name}”是实训课（practical = true），实训课须线下进行，不能有线上课时（online_lessons = {lessons}）"
PLAN_SESSION_LESSONS_TOO_MANY = (
    "课程时段“{name}”有 {lessons} 个线上课时，每课时 {lesson_minutes} 分钟，超过该时段的 {minutes} 分钟"
)
PLAN_TIMETABLE_LESSONS_MISMATCH = (
    "课程表的线上课时合计 {lessons} 课时（{days} 个培训日），与线上课时 online_hours = {online} 不符"
)
PLAN_ONLINE_OVER_THEORY = "线上课时 {online} 超过理论课时 {theory}：只有理论课可以线上进行，实训课须线下（R03）"
PLAN_ONLINE_BEYOND_THEORY_HINT = "；{keywords}类培训可适当提高线上比例，须在计划中用 online_approval 写明旗县区的批准"
PLAN_THEORY_OVER_TOTAL = "理论课时 {theory} 超过总课时 {total}"
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
STATUS_NAMES = {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "approved": "已审核", "filed": "已备案"}
NO_SUCH_CLASS = "没有编号为 {code} 的班级"
NO_SUCH_CLASS_OR_DISTRICT = "没有编号为 {scope} 的班级，也没有名为 {scope} 的旗县区"
CLASS_EXISTS = "编号为 {code} 的班级已存在"
INSTITUTION_IN_OTHER_DISTRICT = "机构“{name}”已登记在 {district}，不能在另一个旗县区开班"
BAD_TRANSITION = ("班级 {code} 当前为“{current}”，不能改为“{target}”"
                  "（顺序：草稿 → 已提交 → 已审核 → 已备案；已提交的可退回，退回后改正再提交）")
# R02: what the district's approval checks (handlers/approval.py); every problem is listed at once.
APPROVAL_REFUSED = "班级 {code} 不能审核通过（R02），共 {count} 个问题："
APPROVAL_NO_ROSTER = "花名册没有学员：请先导入实名制花名册（dingclass roster import）"
APPROVAL_NO_COMMITMENT = "没有签字的承诺书（R01）：请在培训计划中用 commitment_file 指明承诺书文件"
APPROVAL_NO_TEACHERS = "培训计划没有授课讲师（R01）"
APPROVAL_NO_PLATFORM = "培训计划没有线上平台名称和网址（R01）"
APPROVAL_NO_SESSIONS = "培训计划没有每日时段（R01）"
APPROVAL_NO_CLASS_DAYS = "课程表中没有培训日（R01）"
APPROVAL_TIMETABLE_MISMATCH = "课程表的线上课时合计 {lessons} 与线上课时 {online} 不一致（R01）"
APPROVAL_ALL_INELIGIBLE = "花名册中的 {count} 名学员都已标记为不符合培训条件（R22），没有可以参加培训的学员"
ROSTER_REMOVE_NO_REASON = "请写明移出花名册的理由（--reason）。"
ROSTER_NOTHING_TO_NOTE = "班级 {code} 没有待确认的花名册变更。"
ROSTER_CHANGE_KINDS = {"add": "新增", "remove": "移出"}
ROSTER_ADDED_BY_FILE = "审核通过后导入花名册 {filename}"
ROSTER_PENDING = "审核通过后新增，待旗县区确认（R02），确认前不计入补贴"
# R01: changes of a plan (handlers/plan_changes.py).
CHANGE_NOTHING = "新的培训计划与班级 {code} 现在的计划相同，没有要变更的内容。"
CHANGE_PENDING_EXISTS = "班级 {code} 已有一项变更申请待旗县区审核，审核之后再提交新的变更。"
CHANGE_TOO_LATE = "计划变更须提前 {days} 天申请（003 第九条）：自 {effective} 起生效的变更最晚今天申请不了，最早可自 {earliest} 起生效。"
CHANGE_REWRITES_PAST = "变更自 {effective} 起生效，但会改动此前 {count} 天的课程安排（{days}）：生效日之前的培训日、时段和计划线上时长不能改。"
CHANGE_NONE_PENDING = "班级 {code} 没有待审核的计划变更。"
CHANGE_EXPIRED = "第 {number} 号变更申请应于 {effective} 生效，已经过期：请培训机构重新申请。"
CHANGE_REFUSE_NO_REASON = "不同意变更须写明理由（--reason）。"
CHANGE_FIXED_FIELD = "{field}（{label}）不能变更：这是班级本身，需要时另行开班"
CHANGE_SESSION_DROPPED = "时段 {names} 不能删除（已有的签到记录挂在时段上）；不再上课的日子用 [[days]] 只列要上的时段"
CHANGE_LINE = "{label}：{old} → {new}"
CHANGE_NONE = "（无）"
CHANGE_PRACTICAL = "（实训）"
CHANGE_ONLINE_LESSONS = "（线上 {n} 课时）"
CHANGE_STATUS = {"applied": "已更新（审核前）", "pending": "待旗县区审核", "approved": "已同意，已生效", "refused": "不同意"}
RETURN_NO_REASON = "退回须写明理由（--reason），机构据此改正后再提交。"

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
NOT_A_TEACHER = "用户 {name} 不是授课教师（teacher）角色，不能分配班级"
CLASS_OF_ANOTHER_INSTITUTION = "班级 {code} 不属于教师 {name} 所在的机构，不能分配"
ROLE_NEEDS_INSTITUTION = "角色 {role} 需要用 --institution 指明所属机构"
ROLE_NEEDS_DISTRICT = "角色 district 需要用 --district 指明所属旗县区"
NO_SUCH_INSTITUTION = "没有名为“{name}”的机构（已有：{known}）"
NO_SUCH_DISTRICT = "没有名为“{name}”的旗县区（已有：{known}）"

# --- Input hygiene (handlers/hygiene.py) ------------------------------------------------------------
CHAR_NUL = "空字符（NUL）"
CHAR_BIDI = "文字方向控制符"
CHAR_ZERO_WIDTH = "零宽字符"
CHAR_CONTROL = "控制字符"
CHAR_FORMAT = "不可见的格式字符"
TEXT_BAD_CHAR = "{label}含有{kind} {code}，看不见却会改变内容，请删除后重新填写"
TEXT_TOO_LONG = "{label}太长：最多 {max} 个字符，实际 {length} 个"
CODE_BAD = "{label}“{value}”不符合要求：只能由 1 到 32 个英文字母、数字、下划线或短横线组成"

# --- Plan limits and the commitment file (handlers/plans.py) ---------------------------------------
PLAN_DATE_OUT_OF_RANGE = "字段 {{field}}（{{label}}）应在 {earliest} 年到 {latest} 年之间，实际为“{{value}}”"
PLAN_TOO_LONG = "培训期 {start:%Y-%m-%d} 至 {end:%Y-%m-%d} 共 {days} 天，超过最长 {max} 天"
PLAN_LIMITS_NOT_OVERRIDABLE = "政策设置调整 overrides 不能修改 limits（培训期长度与班级人数上限）"
COMMITMENT_OUTSIDE = "承诺书文件“{name}”不在培训计划所在的文件夹里：只能引用与计划文件同一文件夹（或其子文件夹）中的文件"
COMMITMENT_MISSING = "找不到承诺书文件“{name}”（应与培训计划文件放在同一文件夹）"
COMMITMENT_NOT_A_FILE = "承诺书文件“{name}”不是普通文件"
COMMITMENT_UNREADABLE = "无法读取承诺书文件“{name}”：{detail}"
COMMITMENT_TOO_BIG = "承诺书文件“{name}”太大：最多 {max} MB"
COMMITMENT_BAD_TYPE = "承诺书文件“{name}”的类型不允许：只接受 {allowed}（按文件内容与扩展名判断）"
ROSTER_TOO_MANY = "花名册未导入：本文件有 {count} 名学员，班里已有 {enrolled} 名，超过一个班最多 {limit} 名学员的上限"

USER_NAME_LABEL = "用户名"
STAFF_NAME_LABEL = "工作人员姓名"
