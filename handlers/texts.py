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
              "inspector": "督查人员", "scheduler": "定时任务"}
HELP_HEADER = "你可以使用的命令："

# --- Attendance (R06, handlers/attendance.py) -----------------------------------------------------
PUNCH_NAMES = {"in": "签到", "out": "签退"}
NOT_A_CLASS_DAY = "今天不是本班的培训日（培训日期 {start} 至 {end}，课程表中的休息日除外）。"
OUTSIDE_WINDOW = "现在不在{kind}时间内。{kind}时间：{spans}。"
ALREADY_PUNCHED = "今天{session}已{kind}（{at:%H:%M}），不重复记录。"
PUNCHED = "{kind}成功 {at:%H:%M}（{session}）"
LATE = "，迟到（{due:%H:%M} 开始）"
EARLY = "，早退（{due:%H:%M} 结束）"
EARLY_QA_RUNNING = "，早退（答疑还没结束）"
QA_PUNCH_SESSION = "{session}·第 {number} 次答疑"
NOT_COUNTED_YET = "。注意：本班尚未通过旗县区审核，记录已保存，但暂不计入补贴。"

# --- Days in the chat (handlers/dates.py) ---------------------------------------------------------
RELATIVE_DAYS = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2}
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
DAY = "{month}月{day}日（{weekday}）"
WHICH_CLASS = "请在班级群里 @我 发送“{word}”，或在单聊中发送“{word} 班级编号”。"

# --- Binding (handlers/binding.py) ----------------------------------------------------------------
BIND_USAGE = "请发送：绑定 姓名 身份证号后6位（例如：绑定 张三 12345X）。工作人员请发送：绑定 绑定码。"
BIND_LOCKED = "绑定失败次数过多，已暂停绑定，请在 {until:%H:%M} 以后再试；如有疑问请联系班主任。"
BIND_NOW_LOCKED = "\n失败次数过多，绑定已暂停到 {until:%H:%M}。"
BIND_NO_MATCH = ("没有找到可以绑定的学员“{name}”：姓名或身份证号后6位不符，或该学员已绑定了钉钉账号"
                 "（只查找正在培训或 {days} 天内开班的班级）。请核对后重试；仍不成功请联系班主任。")
BIND_NAME_LOCKED = "用这个姓名绑定的失败次数过多，该姓名的绑定已暂停到 {until:%H:%M}。如是本人，请联系班主任核实身份。"
BIND_NAME_LOCKED_NOTICE = ("安全提醒：{minutes} 分钟内有人用学员“{name}”的姓名尝试绑定失败 {count} 次（来自 {senders} 个钉钉账号），"
                           "该学员的绑定已暂停到 {until:%m月%d日 %H:%M}。如是学员本人，请核实身份后协助绑定；"
                           "如该学员已绑定的钉钉账号不是本人，请用“解绑”处理。")
BIND_SEVERAL = "姓名“{name}”和身份证号后6位对应了不止一名学员，无法自动绑定，请联系班主任处理。"
BIND_ALREADY_YOU = "你已经绑定为 {name}，无需重复绑定。"
BIND_ACCOUNT_TAKEN = "这个钉钉账号已经绑定为 {name}，不能再绑定其他学员。如绑定有误，请联系班主任。"
BIND_CLASS_LINE = "· {code}「{name}」（{start} 至 {end}）"
BIND_TRAINEE_DONE = ("绑定成功：{name}。你所在的班级：\n{classes}\n"
                     "请在班级群里 @我 签到、签退、请假、发学习照片；发送“我的”查看自己的记录。")
BIND_CODE_UNKNOWN = "绑定码不正确，请核对后重新发送（绑定码由管理员生成，形如 ABCD-EFGH）。"
BIND_CODE_USED = "这个绑定码已经使用过了，每个绑定码只能用一次。请向管理员申请新的绑定码。"
BIND_CODE_EXPIRED = "这个绑定码已于 {at:%Y-%m-%d %H:%M} 过期，请向管理员申请新的绑定码。"
UNNAMED_STAFF = "工作人员"
BIND_SCOPE_CLASS = "班级 {code}「{name}」"
BIND_SCOPE_DISTRICT = "{name}"
BIND_SCOPE_CITY = "全市"
BIND_STAFF_DONE = "绑定成功：{name}，{scope}的{role}。发送“帮助”查看你可以使用的命令。"
BIND_GROUP_USAGE = "请发送：绑定班级 班级编号（例如：绑定班级 BT-2026-001）。"
GROUP_ALREADY_THIS = "本群已绑定班级 {code}，无需重复绑定。"
GROUP_ALREADY_OTHER = "本群已绑定班级 {code}「{name}」，不能改绑其他班级；如绑定有误，请联系管理员。"
CLASS_HAS_GROUP = "班级 {code} 已绑定了另一个群（{title}），一个班级只能绑定一个班级群；如需更换，请联系管理员。"
GROUP_BOUND_DONE = ("本群已绑定班级 {code}「{name}」（{start} 至 {end}；每日时段：{sessions}）。\n"
                    "学员请先在与我的单聊中发送“绑定 姓名 身份证号后6位”，不要在群里发身份证号。")
GROUP_BOUND_NOT_APPROVED = "\n注意：本班尚未通过旗县区审核，签到等记录会保存，但暂不计入补贴。"

# --- Leave (R07, handlers/leave.py) ---------------------------------------------------------------
LEAVE_STATUS = {"pending": "待批准", "approved": "已批准", "rejected": "已驳回"}
LEAVE_DECISION_WORDS = {"approved": "准假", "rejected": "驳回"}
LEAVE_USAGE = "请发送：请假 [日期] 原因（例如：请假 明天 孩子生病；不写日期即为今天）。"
LEAVE_NOT_A_CLASS_DAY = "{day}不是本班的培训日（培训日期 {start} 至 {end}，课程表中的休息日除外），无需请假。"
LEAVE_PAST = "{day}已经过去，不能再请假。"
LEAVE_TOO_LATE = "{day}的请假须在 {deadline:%H:%M} 前提出（当天第一节课开始前），现在已经晚了，未记录。如有特殊情况请联系班主任。"
LEAVE_EXISTS = "你已为{day}请过假（编号 {number}，{status}），不重复记录。"
LEAVE_ALREADY_PUNCHED = "你{day}已经签到或签退过，不能再为这一天请假。"
LEAVE_REQUESTED = "已记录请假：{day}，原因：{reason}。编号 {number}，等待班主任批准。请假缺的课时，请当天或线上培训结束后看回放补上。"
LEAVE_DECIDE_USAGE = "请发送：{word} 编号（编号见“请假列表”）。"
LEAVE_NO_SUCH = "没有编号为 {number} 的本班请假申请，请发送“请假列表”查看。"
LEAVE_ALREADY_DECIDED = "编号 {number}（{name}，{day}）已于 {at:%m-%d %H:%M} {status}，不重复处理。"
LEAVE_DECIDED = "编号 {number}：{name} {day}的请假{status}（原因：{reason}）。"
LEAVE_DECISION_NOTE = "意见：{note}"
LEAVE_LINE = "{number}. {name} {day}：{reason}"
LEAVE_NONE_PENDING = "班级 {code} 没有待批准的请假。"
LEAVE_PENDING_HEADER = "班级 {code} 待批准的请假 {count} 条（编号. 姓名 日期：原因）："
LEAVE_PENDING_FOOTER = "回复“准假 编号”批准，或“驳回 编号 理由”驳回。"

# --- Daily photo (R08, handlers/photos.py) --------------------------------------------------------
PHOTO_NEEDS_PICTURE = "请把当天在线学习的照片作为图片发给我：在班级群里 @我 并附上图片，或在单聊中直接发送图片。"
PHOTO_COUNTED = "已收到今天的学习照片（{at:%H:%M}），已计入。"
PHOTO_RECORDED_NOT_APPROVED = "已收到今天的学习照片（{at:%H:%M}）。注意：本班尚未通过旗县区审核，记录已保存，但暂不计入补贴。"
PHOTO_SLOT_MOVED = "这张比之前计入的那张（{other:%H:%M} 发送）发得早，所以改计这张，那张保存为补充照片。"
PHOTO_DOWNLOAD_FAILED = "你 {at:%H:%M} 发来的图片没能下载下来，未记录，请重新发送这张图片。"
PHOTO_EXTRA = "今天的学习照片已经收到过了，这张（{at:%H:%M}）也已保存，但每天只计1张。"
PHOTO_NOT_A_CLASS_DAY = "今天不是本班的培训日，照片（{at:%H:%M}）已保存，但不计入。"
PHOTO_DUPLICATE = ("这张照片与之前收到过的照片相同或高度相似，已转人工审核，审核通过前不计入。"
                   "请拍一张今天在线学习的新照片发给我。")
PHOTO_INVALID = {
    "too_large": "图片太大（超过 20 MB），未记录。请直接拍照发送，不要发原图文件。",
    "not_an_image": "收到的文件不是图片，未记录。请发送当天在线学习的照片。",
    "unsupported_format": "不支持这种图片格式，未记录。请发送 JPG 或 PNG 照片。",
    "too_many_pixels": "图片尺寸过大，未记录。请直接拍照发送。",
    "too_small": "图片太小，看不清内容，未记录。请发送当天在线学习的照片。",
    "broken": "图片已损坏或不完整，未记录。请重新发送。",
}

# --- Study minutes and removal (R09, R12, R16, handlers/hours.py) ----------------------------------
HOURS_REJECTED = "学习时长未导入（{count} 处错误，整个文件都没有写入，请改正后重新导入）："
HOURS_ROW_ERROR = "第 {data_row} 行（表格第 {sheet_row} 行）{column}：{reason}"
HOURS_NO_HEADER = "前几行中找不到表头：需要列 姓名（或 钉钉用户ID、身份证号）、日期、直播时长、回看时长"
HOURS_MISSING_COLUMNS = "观看统计缺少列：{columns}"
HOURS_EMPTY = "表头下面没有任何数据"
HOURS_MISSING = "未填写"
HOURS_BAD_DAY = "不是有效日期（应如 2026-12-01），实际为“{value}”"
HOURS_DAY_OUTSIDE = "{day}不在培训期内（{start} 至 {end}）"
HOURS_LESSON_TOO_LONG = "场次不能超过 {limit} 个字"
HOURS_DAY_ALREADY_IMPORTED = (
    "班级 {code} 的学员在 {days} 已有另一个文件导入的学习时长，而这个文件没有“场次”列，无法判断是重复还是另外的课。"
    "请在文件中加上“场次”列（不同场次的时长相加，同一场次取较大者），或用 --replace 以这个文件替换这些学员这些日期原有的文件数据"
)
MINUTES_REPLACED = "以文件 {filename} 替换（--replace）"
HOURS_REST_DAY = "{day}是课程表中的休息日，不是培训日"
HOURS_BAD_MINUTES = "时长应为分钟数（如 90）或时:分:秒（如 1:30:00），实际为“{value}”"
HOURS_TOO_MANY = "{value} 分钟超过一天的 {limit} 分钟，不可能"
HOURS_DAY_TOTAL_COLUMN = "时长合计"
HOURS_DAY_TOO_MANY = "与第 {first} 行同一学员同一天的时长合计 {total} 分钟，超过一天的 {limit} 分钟，不可能"
HOURS_NOT_IN_ROSTER = "不在本班花名册中"
HOURS_UNKNOWN_USER = "钉钉用户 {value} 没有绑定本班学员；请补上姓名或身份证号"
HOURS_SAME_NAME = "本班有 {count} 名学员同名，请加一列“身份证号”或“钉钉用户ID”区分"
HOURS_ALREADY_IMPORTED = "这个文件已经导入过班级 {code}，不重复导入。"
HOURS_IMPORTED = "已向班级 {code} 导入学习时长 {rows} 条（{trainees} 名学员，{days} 天）。"
HOURS_IMPORTED_BELOW = "其中 {below} 条低于当日计划课时的 80%（每天至少 {threshold} 分钟，R09）。"
REMOVAL_TOO_EARLY = "班级 {code} 要到 {end} 才结束，结束后才能按 R16 标记不合格学员。"
REMOVAL_REASON = "线上学习 {earned} 课时，为应学 {required} 课时的 {percent}，未达到 {minimum}（R16）"

# --- 我的 (handlers/mine.py) -----------------------------------------------------------------------
MINE_HEADER = "{name}（{code}）{day}："
MINE_SESSION = "{session}：{parts}"
MINE_PUNCHED = "{kind} {at:%H:%M}{mark}"
MINE_NOT_PUNCHED = "未{kind}"
MINE_LATE = "（迟到）"
MINE_EARLY = "（早退）"
MINE_PHOTO_OK = "照片：已收到（{at:%H:%M}）"
MINE_PHOTO_FLAGGED = "照片：与之前的照片重复，等待人工审核，暂不计入"
MINE_PHOTO_REJECTED = "照片：未通过审核，请重新发送一张今天的学习照片"
MINE_PHOTO_NONE = "照片：今天还没有收到"
MINE_MINUTES = "今日学习时长：{minutes} 分钟（至少 {threshold} 分钟），{verdict}"
MINE_MINUTES_NONE = "今日学习时长：暂无数据（观看统计导入后可查；每天至少 {threshold} 分钟）"
MINE_DAY_OK = "已达标"
MINE_DAY_SHORT = "未达标"
MINE_NOT_A_CLASS_DAY = "今天不是培训日（培训日期 {start} 至 {end}，课程表中的休息日除外）。"
MINE_LEAVE = "请假：{day}，编号 {number}，{status}"
MINE_TOTAL = "累计：已学 {earned} 课时，应学 {required} 课时，完成 {percent}（合格需达到 {minimum}）"
MINE_NOT_APPROVED = "注意：本班尚未通过旗县区审核，记录已保存，但暂不计入补贴。"

# --- 统计 (handlers/stats.py) ----------------------------------------------------------------------
STATS_HEADER = "{code}「{name}」{day}统计（截至 {at:%H:%M}），学员 {count} 人："
STATS_SESSION = "{session}：签到 {checked_in} 人（迟到 {late}），签退 {checked_out} 人（早退 {early}）"
STATS_PHOTOS = "学习照片：{count} 人已交，{flagged} 张待审核"
STATS_LEAVE = "请假：{count} 人（已批准 {approved}，待批准 {pending}）"
STATS_MISSING = "{session}未{kind}（{count}）：{names}"
STATS_NO_PHOTO = "未交照片（{count}）：{names}"
STATS_ON_LEAVE = "已批准请假：{names}"
STATS_MORE = " 等 {count} 人"
STATS_PENDING_HEADER = "待批准的请假 {count} 条（编号. 姓名 日期：原因）："
STATS_NOT_APPROVED = "注意：本班尚未通过旗县区审核，以上记录暂不计入补贴。"

# --- Automatic changes to study minutes (R05: every change has its reason) -----------------------
MINUTES_REPULLED = "直播观看统计再次拉取，数值有更新（同一课程的后续统计，如补看回放）"
MINUTES_FROM_PUNCHES = "按当天签到签退重新计算课时（R12）"
HOURS_PULLED = "班级 {code}：写入或更新 {written} 条学习时长，{unchanged} 条无变化。"
HOURS_PULL_UNMATCHED = "花名册中找不到的观看者（{count}）：{names}"
HOURS_REMOVED_NONE = "班级 {code}：没有需要标记的学员。"
HOURS_REMOVED = "班级 {code}：{count} 名学员学习时长不足，已从补贴名单中标记移除（R16，记录保留）："

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

# --- unbinding (corrections of a binding made in error) -------------------------------------------
UNBIND_NEEDS_REASON = "解绑必须写明理由（会记入台账）"
UNBIND_NO_GROUP = "班级 {code} 没有绑定班级群"
UNBIND_NO_TRAINEE = "班级 {code} 的花名册中没有名为“{name}”的学员"
UNBIND_SEVERAL = "班级花名册中有 {count} 名学员都叫“{name}”，无法确定解绑哪一位，请在管理后台的学员页操作"
UNBIND_NOT_BOUND = "学员 {name} 没有绑定钉钉账号，无需解绑"
UNBIND_GROUP_NOTICE = ("本群与班级 {code}「{name}」的绑定已解除（理由：{reason}）。此后本群的签到等记录不再计入该班。"
                       "如需绑定正确的班级，请班主任或督查人员 @我 发送：绑定班级 班级编号")
UNBIND_PERSON_NOTICE = ("你的钉钉账号与学员 {name} 的绑定已解除（理由：{reason}）。"
                        "如果你就是 {name} 本人，请用本人的钉钉账号在与我的单聊中发送：绑定 姓名 身份证号后6位")
UNBIND_USAGE = "请发送：解绑 姓名 理由（例如：解绑 张三 用了家人的钉钉账号）"
UNBIND_DONE = "{at:%H:%M} 已解除学员 {name} 的钉钉绑定（记入台账）。请 {name} 本人用自己的钉钉账号在与我的单聊中发送：绑定 姓名 身份证号后6位。"
UNBIND_TELL_IN_PERSON = "原账号在组织外，钉钉不允许我主动单聊，请当面告知。"
DAY_DOES_NOT_EXIST = "日期不存在：{text}（请检查月份和日子，如 2026-02-28）"
USER_NAME_LABEL = "用户名"
STAFF_NAME_LABEL = "工作人员姓名"

# --- Roll calls (R13, handlers/rollcall.py) -----------------------------------------------------------
ROLLCALL_USAGE = "请发送：点名 [比例%] [时限分钟]（例如：点名 50% 10）；单聊中发送：点名 班级编号 [比例%] [时限分钟]。"
ROLLCALL_BAD_RATIO = "抽查比例“{value}”不对：应为 1% 到 100% 之间，如 50%。"
ROLLCALL_BAD_MINUTES = "应答时限“{value}”不对：应为 1 到 {limit} 之间的分钟数。"
ROLLCALL_NOT_APPROVED = "班级 {code} 尚未通过旗县区审核，不进行点名。"
ROLLCALL_NO_GROUP = "班级 {code} 还没有绑定班级群，无法在群里点名。"
ROLLCALL_NO_TRAINEES = "班级 {code} 的花名册中没有在册学员，无法点名。"
ROLLCALL_OPEN = "班级 {code} 的第 {number} 次点名正在进行，{deadline:%H:%M} 截止；截止后才能再次点名。"
ROLLCALL_RAISED = "抽查比例 {asked} 低于政策要求的 {minimum}，已按 {minimum} 抽取。"
ROLLCALL_TRIGGERS = {"command": "督查人员", "schedule": "定时", "cli": "命令行", "admin": "管理后台"}
ROLLCALL_ANNOUNCE = ("【随机点名】班级 {code} 第 {number} 次点名（{by}发起）：从 {roster} 名在册学员中抽取 {size} 人"
                     "（{percent}）。请以下学员在 {deadline:%H:%M} 前在群里 @我 回复“到”：\n{names}")
ROLLCALL_NAME_LINE = "{position}. {name}{mention}"
ROLLCALL_EXCUSED_MARK = "（已准假，免答）"
ROLLCALL_GROUP_ONLY = "\n以下学员不在本组织内，机器人无法单独通知，请留意本群消息：{names}"
ROLLCALL_NO_AT = "\n（本通知经开放接口发到群里，无法 @ 提醒，请被点到的学员留意。）"
ROLLCALL_COMMITMENT = "\n种子承诺（SHA-256）：{commitment}\n点名结束后公布种子，任何人可按 README 的算法复核抽取名单。"
ROLLCALL_NOTICE = "你被抽中班级 {code} 第 {number} 次随机点名，请在 {deadline:%H:%M} 前在班级群里 @我 回复“到”。"
ROLLCALL_STARTED = "已发起班级 {code} 第 {number} 次点名：抽取 {size}/{roster} 人，{deadline:%H:%M} 截止，结果将发到班级群。"
ANSWER_NO_ROLLCALL = "现在没有进行中的点名，无需回复“到”。"
ANSWER_LATE = "第 {number} 次点名已于 {deadline:%H:%M} 截止，{at:%H:%M} 的“到”不计入。"
ANSWER_NOT_SAMPLED = "你不在第 {number} 次点名的抽查名单中，无需回复。"
ANSWER_TWICE = "你已于 {at:%H:%M} 应答第 {number} 次点名，不重复记录。"
ANSWER_EXCUSED = "你今天已准假，第 {number} 次点名免答，不记录。"
ANSWERED = "已记录：{name} {at:%H:%M} 应答第 {number} 次点名。"
ROLLCALL_NONE = "班级 {code} 还没有点过名。"
ROLLCALL_NO_SUCH = "班级 {code} 没有第 {number} 次点名。"
ROLLCALL_RESULT = ("【点名结果】班级 {code} 第 {number} 次点名（{started:%m-%d %H:%M}，{by}发起）：抽取 {size} 人，"
                   "应答 {answered}/{counted}，应答率 {percent}，{verdict}（要求 {threshold}）。")
ROLLCALL_RUNNING = ("【点名进行中】班级 {code} 第 {number} 次点名（{started:%m-%d %H:%M}）：抽取 {size} 人，"
                    "已应答 {answered}，{deadline:%H:%M} 截止。")
ROLLCALL_PASSED = {True: "合格", False: "不合格"}
ROLLCALL_ANSWERED_LINE = "已应答：{names}"
ROLLCALL_MISSING_LINE = "未应答：{names}"
ROLLCALL_EXCUSED_LINE = "已准假（不计入）：{names}"
ROLLCALL_SEED_LINE = "种子：{seed}（承诺 {commitment}）"
NOBODY = "无"

# --- Eligibility and marks (R15, handlers/eligibility.py) ---------------------------------------------
INELIGIBLE_REASON = "{count} 次监督检查（点名或检查）达标率低于 {threshold}：{checks}"
INELIGIBLE_CHECK_ROLLCALL = "第 {number} 次点名 {percent}"
INELIGIBLE_CHECK_INSPECTION = "{at:%m-%d} {kind}检查 {percent}"
INELIGIBLE_NOTICE = "【补贴资格】班级 {code} 已失去补贴资格：{reason}（R15）。"
ELIGIBLE_LABEL = {True: "有补贴资格", False: "已失去补贴资格"}
MARK_KINDS = {"disqualified": "数据异常，取消资格", "ineligible": "不符合培训条件"}
MARK_NO_REASON = "请写明理由（--reason）。"
SHEET_MARKED = "不合格（{kind}）"
MARK_NO_TRAINEE = "班级 {code} 的花名册中没有名为“{name}”的学员。"
MARK_SEVERAL = "班级 {code} 中有 {count} 名学员叫“{name}”，请在管理后台的学员页上操作。"
MARK_EXISTS = "{name} 已于 {at:%Y-%m-%d} 被标记为“{kind}”，不重复标记。"
MARKED = "已标记 {code} 的 {name}：{kind}（理由：{reason}），记入台账。"
ROLLCALL_RESULT_USAGE = "请发送：点名结果 [编号]（例如：点名结果 3）。"

# --- Inspections (R14, handlers/inspection.py) --------------------------------------------------------
INSPECTION_KINDS = {"video": "视频", "live": "直播统计", "phone": "电话"}
INSPECTION_KIND_WORDS = {"视频": "video", "直播": "live", "直播统计": "live", "电话": "phone"}
INSPECTION_LEVELS = {"city": "市", "district": "旗县区"}
INSPECTION_USAGE = "请发送：检查 班级编号 视频|直播|电话 应到人数 实到人数（例如：检查 BT-2026-001 视频 30 27）。"
INSPECTION_BAD_KIND = "检查方式“{value}”不对：应为 视频、直播 或 电话。"
INSPECTION_BAD_COUNTS = "人数不对：应到 {expected}、实到 {found}；应到须大于 0，实到不能超过应到。"
INSPECTION_PHONE_TOO_FEW = "电话抽查至少要抽 {minimum} 人（在册 {roster} 人的 {share}），本次只有 {expected} 人。"
INSPECTION_RECORDED = ("已记录{level}对班级 {code} 的{kind}检查（{at:%m-%d %H:%M}）：应到 {expected}，实到 {found}，"
                       "{percent}，{verdict}（要求 {threshold}）。")
INSPECTION_EVIDENCE_HINT = "请在 {minutes} 分钟内把截图发给我，作为本次检查的证据。"
INSPECTION_EVIDENCE_SAVED = "已保存检查截图，第 {number} 号检查（班级 {code}）共 {count} 张。"

# --- Reminders (R21, handlers/reminders.py) -----------------------------------------------------------
REMIND_CHECKIN = "【签到提醒】{session} {start:%H:%M} 开始，签到时间 {opens:%H:%M}–{closes:%H:%M}，请在群里 @我 发送“签到”。"
REMIND_SHORT_DAY = "【学习提醒】{name}，你今天（{day}）还有未完成的项目：{missing}。请今天补上{replay}。"
REMIND_REPLAY = "（缺的课时可看回放补学）"
REMIND_MISSING = {"checkin": "签到（{sessions}）", "photo": "学习照片", "minutes": "学习时长（已记 {minutes} 分钟，达标需 {threshold} 分钟）"}
REMIND_SPOT_CHECKS = ("【抽查提醒】{name}，{code} 今天（{day}）已抽查 {done} 次，每天应 {required} 次；今天的上课时间 {ends:%H:%M} "
                      "结束，请在此之前在班级群里 @我 发送“抽查 情况”并附截图。")
REMIND_MAKEUP = "【补学提醒】{name}，你今天（{day}）请假了。缺的课时请看回放补上：当天或线上培训结束后补学的时长计入当天。"
SHEET_INELIGIBLE_LABEL = "补贴资格（R15）"
SHEET_INELIGIBLE = "已失去补贴资格：{reason}"
SHEET_ELIGIBILITY_LOST = "已审核/已备案，但已失去补贴资格（R15，见上）"
INSPECTION_EVIDENCE_TOO_LATE = "没有 {minutes} 分钟内记录的检查，这张图片已保存，但没有作为检查证据。"

# --- Homework (R10, handlers/homework.py) ------------------------------------------------------------
WITH_PICTURES = "（附图 {count} 张）"
HOMEWORK_POST_USAGE = "请发送“布置作业 内容 [截止 18:00]”或“布置作业 内容 截止 2026-12-03 18:00”。"
HOMEWORK_BAD_DUE = "截止时间没有看懂：请写“截止 18:00”或“截止 2026-12-03 18:00”。作业未布置。"
HOMEWORK_DUE_PAST = "截止时间 {due:%m-%d %H:%M} 已经过了，作业未布置。"
HOMEWORK_POSTED = ("第 {number} 号作业已布置（{by}，{at:%H:%M}）{pictures}：{content}\n{due}\n"
                   "学员请 @我 发送“交作业 {number} 内容”，可附图片；单聊中发送“交作业 {number}”后10分钟内的图片也算。")
HOMEWORK_DUE = "截止 {due:%m-%d %H:%M}"
HOMEWORK_NO_DUE = "不限截止时间"
HOMEWORK_NONE_POSTED = "本班还没有布置作业。"
HOMEWORK_ALL_HANDED_IN = "本班布置的作业你都已交过；要交某一份，请写上编号：“交作业 编号 内容”。"
HOMEWORK_ALREADY_HANDED_IN = "第 {number} 号作业你已在 {at:%m-%d %H:%M} 交过，不再重复记录。"
HOMEWORK_SUBMIT_USAGE = "请发送“交作业 [编号] 内容”，可附图片。"
HOMEWORK_SUBMITTED = "{name}的第 {number} 号作业已收到（{at:%H:%M}）{late}{pictures}。"
HOMEWORK_LATE = "，已过截止时间，记为迟交"
HOMEWORK_FOLLOW_UP = "\n{minutes}分钟内在这里发送的图片和文件都算这份作业（{minutes}分钟后发送的图片算每日学习照片）。"
HOMEWORK_CHECK_USAGE = "请发送“批改 作业编号 学员姓名 评语 [分数]”，如“批改 1 张三 步骤完整 90”。"
HOMEWORK_BAD_SCORE = "分数 {score} 超出范围（0到{top}），未记录。"
HOMEWORK_NO_SUCH = "班级 {code} 没有第 {number} 号作业。"
HOMEWORK_NOT_HANDED_IN = "{name}还没有交第 {number} 号作业（或姓名不在本班花名册中），未记录批改。"
HOMEWORK_NAME_AMBIGUOUS = "本班有不止一名学员叫“{name}”，请在管理后台批改。"
HOMEWORK_CHECKED = "已批改第 {number} 号作业：{name}，{comment}{score}（{at:%H:%M}）"
HOMEWORK_SCORE = "，{score} 分"
HOMEWORK_LIST_EMPTY = "班级 {code} 还没有布置作业。"
HOMEWORK_LIST_HEADER = "班级 {code} 的作业 {count} 份（编号. 内容 截止：已交/人数，迟交，已批改）："
HOMEWORK_LIST_LINE = "{number}. {content}{due}：已交 {submitted}/{roster}，迟交 {late}，已批改 {checked}"
HOMEWORK_OWED = "待交：第 {number} 号 {content}{state}"
HOMEWORK_OWED_OVERDUE = "（已过截止 {due:%m-%d %H:%M}，仍可补交，记为迟交）"
HOMEWORK_NOTHING_OWED = "你没有待交的作业。"

# --- Q&A (R10, handlers/qa.py) -----------------------------------------------------------------------
QA_ALREADY_OPEN = "第 {number} 次答疑（{at:%H:%M} 开始）还没有结束。"
QA_OPENED = "第 {number} 次答疑{topic}开始（{at:%H:%M}）。学员请 @我 发送“提问 问题”，教师用“答 编号 回答”回答。"
QA_CARRIED = "此前留下的问题 {count} 个："
QA_QUESTION_LINE = "{number}. {content}"
QA_NONE_OPEN = "现在没有进行中的答疑。"
QA_CHECKIN_OPEN = ("本次答疑是今天{session}的签到签退时段：请在 {closes:%H:%M} 前 @我 发送“签到”（答疑开始后签到记为迟到），"
                   "答疑结束后 {minutes} 分钟内发送“签退”。")
QA_NOT_A_CHECKIN_SESSION = "本次答疑不计签到签退：今天没有课，或今天的答疑时段都已有答疑。"
QA_CHECKOUT_OPEN = "\n请在 {closes:%H:%M} 前 @我 发送“签退”。"
QA_CLOSED = "第 {number} 次答疑结束（{at:%H:%M}）：提问 {questions} 个，已回答 {answered} 个。"
QA_UNANSWERED = "未回答的问题编号：{numbers}。"
QA_ASK_USAGE = "请发送“提问 问题内容”。"
QA_ASKED = "问题已记录，编号 {number}（{at:%H:%M}）。"
QA_KEPT_FOR_NEXT = "现在不在答疑时间，问题会留到下次答疑。"
QA_ANSWER_USAGE = "请发送“答 问题编号 回答内容”。"
QA_NO_SUCH = "本班没有编号为 {number} 的问题。"
QA_ANSWERED = "{mention}问题 {number}「{question}」的回答（{by}，{at:%H:%M}）：{answer}"

# --- Spot checks (R10, handlers/spot_checks.py) ------------------------------------------------------
SPOT_CHECK_USAGE = "请发送“抽查 情况”并附截图，如“抽查 在线28人，2人未开摄像头”。"
SPOT_CHECK_RECORDED = "已记录今天第 {count} 次抽查（每天应 {required} 次，{at:%H:%M}）{pictures}：{note}"
HOMEWORK_ATTACHED = "已收到第 {number} 号作业的附件 {count} 个（{at:%H:%M}）。"
HOMEWORK_ATTACHED_FILE = "文件：{name}"
FILE_NOT_EXPECTED = ("收到文件“{name}”，但没有记录：文件只在单聊中发送“交作业”后 {minutes} 分钟内作为作业附件收下。"
                     "请先发送“交作业 [编号] 内容”，再发文件。")
FILE_UNNAMED = "（无文件名）"

# --- Daily report (R11, handlers/daily_report.py) ----------------------------------------------------
REPORT_NO_SUCH_DISTRICT = "没有名为“{name}”的旗县区。"
REPORT_YES = "是"
REPORT_NO = "否"
REPORT_TITLE = "{district} {day:%Y-%m-%d} 线上培训日报"
REPORT_CLASS_TITLE = "{code}「{name}」{day:%Y-%m-%d} 学员日统计"
REPORT_DAY = "日期"
REPORT_CLASSES = "培训班"
REPORT_TRAINEES = "学员"
REPORT_DAY_OK = "学习时长达标"
REPORT_TOTAL = "合计"
REPORT_INSTITUTION = "培训机构"
REPORT_THRESHOLD = "当日达标学习分钟"
REPORT_SPOT_CHECKS = "抽查（实/应）"
REPORT_QA = "答疑"
REPORT_QA_VALUE = "{sessions} 场，提问 {questions}，回答 {answered}"
REPORT_NOTE_DEFINITIONS = ("签到、签退、照片只计已审核通过班级的有效记录；时长达标按当日计划线上课时的比例计；"
                           "交作业、批改、提问、回答按发生在当天的记录计。")
REPORT_HEAD = "台账链头（当日结束时）"
REPORT_HEAD_VALUE = "第 {seq} 条 {hash}"
REPORT_HEAD_NONE = "本班台账当日结束时还没有记录"
REPORT_HEAD_SIGNATURE = "链头签名"
REPORT_HEAD_SIGNED = "密钥 {key}，{at:%Y-%m-%d %H:%M} UTC 签署：{signature}"
REPORT_HEAD_UNSIGNED = "未签名（发送日报或写工作簿的机器上没有台账签名密钥）"
REPORT_NOTE_HEADS = ("台账链头：每个班的工作表写明该班台账链在当日结束时的链头及其 Ed25519 签名，请保存本工作簿，日后可用 "
                     "dingclass verify --anchor 核对这些链头仍在台账上、未被改写。")
REPORT_PUBLIC_KEYS = "台账签名公钥：{keys}"
REPORT_MD_HEAD = "- 台账链头（当日结束时）：第 {seq} 条 {hash}，{signed}"
REPORT_MD_SIGNED = "已签名（密钥 {key}，签名见工作簿）"
REPORT_EMPTY_SHEET = "日报"
REPORT_EMPTY = "{day:%Y-%m-%d} 没有培训班上课"
REPORT_MORE = " 等 {count} 人"
REPORT_MD_TITLE = "### {district} {day} 线上培训日报"
REPORT_MD_TOTALS = "培训班 {classes} 个，学员 {trainees} 人：签到 {checked_in}，照片 {photos}，学习时长达标 {day_ok}"
REPORT_MD_CLASS = ("**{code}**：学员 {trainees}，达标 {day_ok}；作业 布置 {posted}、交 {submitted}、批改 {checked}；"
                   "答疑 {qa} 场，提问 {questions}、回答 {answered}；抽查 {spot}/{spot_required}")
REPORT_MD_SHORT = "- 未达标 {count} 人：{names}"
REPORT_MD_FLAGGED = "- 待审照片 {count} 张"
REPORT_MD_SPOT_MISSING = "- 抽查不足：{done}/{required}"
REPORT_WRITTEN = "已写入 {path}：{day:%Y-%m-%d}，旗县区 {districts} 个，培训班 {classes} 个，学员 {trainees} 人。"
REPORT_MD_HEADLINE = "{district} {day:%m-%d} 培训日报"
REPORT_FILE_NAME = "日报-{district}-{day:%Y-%m-%d}.xlsx"
SUPERVISION_USAGE = "请在旗县区督查群里 @我 发送“绑定督查群 旗县区名称”。"
SUPERVISION_CLASS_GROUP = "这是一个班级群，不能绑定为督查群。"
SUPERVISION_NOT_YOURS = "你不是“{name}”的督查人员，不能为它绑定督查群。"
SUPERVISION_ALREADY = "本群已是“{name}”的督查群。"
SUPERVISION_BOUND = "本群已绑定为“{name}”的督查群（{at:%m-%d %H:%M}）：每天早上在此发送前一天的培训日报。"
REPORT_SENT = ("{day:%Y-%m-%d} 的日报：{sent} 个旗县区已排入发送（机器人运行时发出：督查群与督查人员单聊各一条摘要和一份工作簿），"
               "{already} 个此前已发送。")
REPORT_UNREACHABLE = "没有接收人、未发送的旗县区（请督查人员在督查群里发送“绑定督查群 旗县区”）：{names}"

# --- Printed registers (handlers/sheets.py) ----------------------------------------------------------
SHEET_FACT_LABELS = {
    "code": "班级编号",
    "occupation": "职业（工种）",
    "institution": "培训机构",
    "district": "旗县区",
    "dates": "培训日期",
    "online_hours": "线上课时",
    "class_teacher": "班主任",
    "teachers": "授课讲师",
}
SHEET_DATES = "{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"
SHEET_ONLINE_HOURS = "{hours} 课时（每课时 {minutes} 分钟）"
SHEET_LIST_SEPARATOR = "、"
SHEET_TITLE = "{klass} {sheet}"
SHEET_REMOVED_SUFFIX = "（已删除）"
SHEET_TOTAL = "合计"
SHEET_PEOPLE = "{count} 人"
SHEET_YES = "是"
SHEET_NO = "否"
SHEET_PRINTED_AT = "导出时间：{at:%Y-%m-%d %H:%M}"
ATTENDANCE_SHEET_NAME = "考勤台账"
ATTENDANCE_MARK_LATE = "迟"
ATTENDANCE_MARK_EARLY = "早"
QUALIFICATION_SHEET_NAME = "合格名单"
QUALIFICATION_HEAD = ("序号", "姓名", "身份证号", "身份类别", "已学课时", "应学课时",
                      "完成比例", "是否合格", "是否删除", "删除原因")
QUALIFIED_YES = "合格"
QUALIFIED_NO = "不合格"
QUALIFICATION_TOTAL_QUALIFIED = "合格 {count} 人"
QUALIFICATION_TOTAL_REMOVED = "删除 {count} 人"
QUALIFICATION_STANDARD_LABEL = "合格标准"
QUALIFICATION_STANDARD = "线上学习时长达到应学课时的 {percent}%（R16）"
QUALIFICATION_ELIGIBILITY_LABEL = "补贴资格"
QUALIFICATION_NOT_APPROVED = "未经审核，不计入补贴（R02）"
QUALIFICATION_COUNTING = "已审核/已备案，计入补贴"
QUALIFICATION_NOTE = ("说明：已学课时 = 各培训日线上学习分钟数（直播加回看；不同场次相加，同一场次多个来源取最大值）之和 ÷ 每课时分钟数，"
                      "保留一位小数（截断）；完成比例 = 已学课时 ÷ 应学课时。")

# --- Ledger verification findings (R17, storage/ledger.py codes) -------------------------------------
LEDGER_FINDINGS = {
    "checkpoint_lost": "签名检查点记载的事件已不在链上（台账末尾被截断）",
    "checkpoint_rewritten": "事件与签名检查点记载的哈希不符（链被改写并重新计算了哈希）",
    "unknown_key": "检查点由未知密钥 {key_id} 签名",
    "bad_signature": "检查点的签名不符（链头被改写后无法用台账密钥重新签名）",
    "head_mismatch": "链头记录与最后一个事件不符（事件 {seq} 条），台账末尾可能被删除",
    "seq_gap": "事件序号不连续：应为 #{expected}，实为 #{found}（有事件被删除或插入）",
    "prev_hash": "前一事件的哈希不符（链被改动）",
    "event_hash": "事件内容与其哈希不符（事件被改动）",
    "chain_emptied": "链头记载 {seq} 个事件，但链上没有事件（台账被删除）",
    "row_deleted": "台账记载的此行已不存在（被直接删除）",
    "row_not_deleted": "台账记载此行已删除，但它仍存在",
    "row_changed": "此行被改动：{changes}",
    "row_inserted": "此行没有对应的台账事件（被直接插入）",
    "anchor_signature": "存证文件中的链头签名不符",
    "anchor_lost": "存证的链头已不在链上（台账末尾被截断）",
    "anchor_rewritten": "链上此事件与存证的链头哈希不符（台账被改写）",
}
LEDGER_CHANGE = "{column} 台账为 {recorded!r}，现为 {now!r}"
LEDGER_CHANGE_SEPARATOR = "；"
LEDGER_CITY_CHAIN = "全市"
LEDGER_ROW = " 第 {row_id} 行"
LEDGER_CHAIN = "{name} 链"
LEDGER_EVENT_REF = "（台账{chain}事件 #{seq}）"
LEDGER_CHAIN_REF = "（{chain}）"
LEDGER_PROBLEM = "{where}{ref}：{detail}"


def ledger_chain(problem) -> str:
    """The chain a ledger problem is about, as people call it: a class code, or 全市."""
    return LEDGER_CITY_CHAIN if problem.chain == "*" else problem.chain


def ledger_detail(problem) -> str:
    """What a ``storage.ledger.Problem`` found, in Chinese."""
    params = dict(problem.params)
    if "diffs" in params:
        params["changes"] = LEDGER_CHANGE_SEPARATOR.join(
            LEDGER_CHANGE.format(column=column, recorded=recorded, now=now) for column, recorded, now in params["diffs"])
    return LEDGER_FINDINGS[problem.finding.value].format(**params)


def ledger_problem(problem) -> str:
    """A whole problem line: ``table 第 N 行（台账 BT-001 链事件 #7）：what was found``."""
    where = problem.table + (LEDGER_ROW.format(row_id=problem.row_id) if problem.row_id is not None else "")
    chain = LEDGER_CHAIN.format(name=ledger_chain(problem)) if problem.chain else ""
    ref = (LEDGER_EVENT_REF.format(chain=chain, seq=problem.seq) if problem.seq is not None
           else LEDGER_CHAIN_REF.format(chain=chain) if chain else "")
    return LEDGER_PROBLEM.format(where=where, ref=ref, detail=ledger_detail(problem))

# --- The weekly 考勤台账 (handlers/sheets.py: attendance_sheets) ------------------------------------
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
ATTENDANCE_WEEK_SHEET = "第{number}周"
ATTENDANCE_WEEK_TITLE = "{klass} 考勤台账（第{number}周：{first:%m-%d} 至 {last:%m-%d}）"
ATTENDANCE_WEEK_LABEL = "本周培训日"
ATTENDANCE_WEEK = "{first:%Y-%m-%d} 至 {last:%Y-%m-%d}，{days} 天（全期第 {start}–{end} 天，共 {total} 天）"
ATTENDANCE_NUMBER_HEAD = "序号"
ATTENDANCE_NAME_HEAD = "姓名\n身份证号"
ATTENDANCE_DAY_HEAD = "{day:%m-%d} {weekday}"
ATTENDANCE_PUNCH_HEAD = "{session}{kind}"
ATTENDANCE_MINUTES_HEAD = "学习\n分钟"
ATTENDANCE_PHOTO_HEAD = "照片"
ATTENDANCE_WEEK_TOTALS = "本周合计"
ATTENDANCE_TOTALS_HEADS = ("签到/\n签退", "迟到/\n早退", "学习\n分钟", "照片\n天数", "请假\n天数")
ATTENDANCE_PAIR = "{first}/{second}"
ATTENDANCE_MISSING = "—"
ATTENDANCE_LEAVE = "请假"
ATTENDANCE_PHOTO_MARK = "✓"
ATTENDANCE_DAY_TOTAL = "签到 {ins}\n签退 {outs}"
SHEET_TOTAL_PEOPLE = "合计\n{count} 人"
ATTENDANCE_NOTE = ("说明：只列计入补贴的考勤（班级审核通过后的签到签退，R02），时间为北京时间；考勤格内自上而下依次为表头所列各时段的签到、"
                        "签退时间，“迟”为迟到，“早”为早退，“—”为未打卡，“请假”为已批准请假（R07）；学习分钟为当日线上学习时长（R09）；"
                        "“✓”为当日有有效照片（R08）。")
REGISTER_SIGNATURES = (
    "班主任（签字）：______________________        日期：________年____月____日",
    "培训机构（盖章）：______________________        负责人（签字）：________________        日期：________年____月____日",
)
PDF_PAGE = "第 {page} 页，共 {pages} 页"
ATTENDANCE_SESSION_WIDEST = "上午"  # a session name this long fits the punch column's header on one line

# --- R18 archive (一班一卷) ---------------------------------------------------------------------------
ARCHIVE_KINDS = {
    "plan": "培训计划、课程表、审核记录与承诺书",
    "roster": "实名制花名册",
    "messages": "机器人收到的群消息与发出的回复",
    "photos": "学习照片（按内容哈希保存原件）",
    "punches": "签到签退",
    "leave": "请假",
    "minutes": "学习时长与导入文件",
    "homework": "作业、提交、批改与附件",
    "qa": "答疑、提问与回答",
    "spot_checks": "抽查",
    "rollcalls": "随机点名（含种子与花名册快照）",
    "inspections": "检查与证据截图",
    "eligibility": "补贴资格变更与学员标记",
    "ledger": "本班台账事件（含链接）",
    "workbooks": "考勤台账与合格名单",
    "certificates": "结业证书编号（R20）",
}
ARCHIVE_LIMITS = (
    "钉钉机器人只能收到 @ 它的群消息：群里没有 @机器人 的消息从未被收到，不在本归档中。",
    "本归档包含机器人在本班群里收到和发出的全部消息、作为本班记录来源的单聊消息（如单聊发来的学习照片）、全部记录、照片和导入文件；"
    "与本班记录无关的单聊消息和机器人单聊发给个人的提醒、回复不在其中；发出的消息不是台账事实，只由清单中的校验和保护。",
    "学员身份信息（persons）、单聊消息、检查证据、点名抽取名单与学员标记记在全市台账链上：归档带有它们各自最后一个台账事件（逐条核对哈希），不是一段连续的链。",
    "花名册与导入文件含完整身份证号，请按个人信息保管归档。",
)
ARCHIVE_PRESENT = {True: "有", False: "尚未实现（缺）"}
ARCHIVE_TITLE = "{code} {name} 归档（一班一卷）"
ARCHIVE_FACT_LABELS = {"code": "班级编号", "name": "班级名称", "occupation": "职业（工种）", "institution": "培训机构",
                       "district": "旗县区", "start_date": "开始日期", "end_date": "结束日期", "status": "状态"}
ARCHIVE_NONE_MISSING_HTML = "<li>无</li>"
ARCHIVE_INDEX = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}} code{{font-size:85%}}
.photos img{{width:160px;height:120px;object-fit:cover;margin:3px;border:1px solid #ccc}}
</style></head><body>
<h1>{title}</h1>
<p>本页可离线浏览（解压后用浏览器打开 index.html）。每个文件的 SHA-256 与大小见 manifest.json；用
<code>dingclass verify 归档.zip</code> 离线校验校验和、台账链以及记录与台账是否一致。</p>
<h2>班级</h2><table>{facts}</table>
<h2>内容</h2><table><tr><th>类别</th><th>状态</th><th>行数/文件数</th><th>文件</th></tr>{kinds}</table>
<h2>局限</h2><ul>{limits}</ul>
<h2>记录中提到但文件存储里没有的文件</h2><ul>{missing}</ul>
<h2>全部文件</h2><table><tr><th>文件</th><th>字节</th><th>SHA-256</th></tr>{files}</table>
<h2>照片</h2><div class="photos">{photos}</div>
</body></html>
"""
ARCHIVE_SUPERSEDED = "已有更新的归档，这次上传不再进行"
# --- Certificates (R20, handlers/certificates.py) -------------------------------------------------------
CERT_NOT_APPROVED = "班级 {code} 尚未审核通过（当前：{status}），不能发放证书编号（R02）。"
CERT_INELIGIBLE = "班级 {code} 已失去补贴资格，不能发放证书编号（R15）：{reason}"
CERT_NOT_ENDED = "班级 {code} 的培训到 {end:%Y-%m-%d} 才结束，结束后才能发放证书编号。"
CERT_NO_SUCH_NUMBER = "没有编号为 {number} 的证书。"
CERT_ALREADY_REVOKED = "证书 {number} 已于 {at:%Y-%m-%d} 撤销（理由：{reason}），不重复撤销。"
CERT_COUNTER_BEHIND = ("证书编号计数器（{series}）给出的 {number} 已经发放过：计数器被改动过（请运行 dingclass verify 查明）。"
                       "编号绝不重复使用，本次没有发放任何编号。")
CERT_NO_REASON = "请写明撤销理由（--reason）。"
CERT_ISSUED = "班级 {code}：新发放证书编号 {new} 个，此前已发放 {kept} 个（合格学员共 {qualified} 人）。"
CERT_LINE = "{number}  {name}"
CERT_STALE = "注意：{names} 已有证书，但现在不在合格名单上；如需撤销请用 certificates revoke。"
CERT_REVOKED = "已撤销证书 {number}（{name}，班级 {code}），理由：{reason}。编号不会再发放。"
CERT_WRITTEN = "已写入 {count} 份培训证明和全班合订本：{path}"
CERT_NONE = "班级 {code} 没有合格的学员，没有发放证书编号。"
CERT_PDF_TITLE = "培训证明"
CERT_PDF_NUMBER = "证书编号：{number}"
CERT_PDF_BODY = ("学员{name}于{start:%Y年%m月%d日}至{end:%Y年%m月%d日}参加{institution}举办的"
                 "“{occupation}”职业技能线上培训，完成规定课时，经考核合格，特此证明。")
CERT_PDF_FIELDS = ("姓名", "性别", "身份证号", "职业（工种）", "培训项目", "培训日期", "培训机构", "线上学习", "发证日期")
CERT_PDF_DATES = "{start:%Y年%m月%d日} 至 {end:%Y年%m月%d日}"
CERT_PDF_HOURS = "{earned} 课时（应学 {required} 课时）"
CERT_PDF_ISSUED = "{day:%Y年%m月%d日}"
CERT_PDF_FOOTER = "本证明依据实名制线上培训台账出具（班级编号 {code}）；证书编号唯一，撤销后不再使用。"
CERT_FILE_CLASS = "{code}-培训证明.pdf"
CERT_FILE_ONE = "{number}-{name}.pdf"

# --- Working days (handlers/workdays.py) ----------------------------------------------------------------
WORKDAYS_UNKNOWN_YEAR = ("工作日历还没有 {year} 年的法定节假日和调休安排（计算到 {day:%Y-%m-%d} 时），不能推算公示期的截止日期；"
                         "请在国务院公布 {year} 年安排、升级 chinese-calendar 后再导出。")

# --- Institution bank account (R19, handlers/institutions.py) ------------------------------------------
INSTITUTION_UNKNOWN = "没有名为“{name}”的培训机构（机构在建班时登记）。"
ACCOUNT_BANK_LABEL = "开户银行"
ACCOUNT_NO_BANK = "请写明开户银行（--bank），例如“中国工商银行包头昆都仑支行”。"
ACCOUNT_BAD_NUMBER = "银行账号“{value}”不对：应为 6 到 32 位数字（可以带空格或短横线）。"
ACCOUNT_SET = "已设置 {name} 的开户银行账户：{bank}，账号 {account}（记入台账）。"

# --- Subsidy package (R19, handlers/subsidy.py, handlers/subsidy_package.py) ----------------------------
SUBSIDY_STAGE_NAMES = {"pre": "预拨", "final": "清算"}
SUBSIDY_BASIS_NAMES = {"registered": "实名注册学员", "qualified": "合格学员"}
SUBSIDY_NOT_APPROVED = "班级 {code} 尚未审核通过（当前：{status}），不能申报补贴（R02：未经审核备案的，不予补贴）。"
SUBSIDY_INELIGIBLE = "班级 {code} 已失去补贴资格，不能申报补贴（R15）：{reason}"
SUBSIDY_NO_PREPAY = "班级 {code} 的政策配置 {policy} 不预拨补贴（全部培训完成后一次拨付），请导出 --stage final。"
SUBSIDY_PRE_NOT_FILED = "班级 {code} 的政策配置 {policy} 在市局备案后才预拨，本班还没有备案（dingclass class file）。"
SUBSIDY_NOT_ENDED = "班级 {code} 的培训到 {end:%Y-%m-%d} 才结束，结束后才能导出{stage}申报材料。"
SUBSIDY_NO_STANDARD = "班级 {code} 的培训计划没有补贴标准（subsidy_standard，元/人），无法计算补贴金额。"
SUBSIDY_NO_ACCOUNT = ("培训机构“{name}”还没有开户银行账户，申报材料必须附上："
                      "dingclass institution account {name} --bank 开户银行 --account 账号（或在管理后台设置）。")
SUBSIDY_BAD_START = "公示开始日期“{value}”不对：应为 YYYY-MM-DD，例如 2026-09-29。"
SUBSIDY_FORMULA_PRE = "补贴标准 {standard} 元 × {basis} {count} 人 × 预拨比例 {share} = {amount} 元"
SUBSIDY_FORMULA_CAPPED = "（不超过上限 {ceiling} 元）"
SUBSIDY_FORMULA_FINAL = "补贴标准 {standard} 元 × 合格学员 {qualified} 人 − 已预拨 {prepaid} 元 = {amount} 元（预拨：{pre}）"
SUBSIDY_FORMULA_FINAL_ONLY = "补贴标准 {standard} 元 × 合格学员 {qualified} 人 = {amount} 元（本政策配置不预拨）"
SUBSIDY_REFUND = "（负数：应退回多预拨的补贴）"
SUBSIDY_WRITTEN = ("已写入 {path}：班级 {code} {stage}申报材料，学员 {trainees} 人（计入 {registered}，合格 {qualified}），"
                   "照片 {photos} 张。")
SUBSIDY_AMOUNT_LINE = "补贴金额：{formula}"
SUBSIDY_PUBLICITY_LINE = "公示期：{start:%Y-%m-%d} 起 {days} 个工作日，至 {end:%Y-%m-%d} 止（按国家法定节假日和调休安排计算）。"
SUBSIDY_FILE = "{code}-补贴申报-{stage}.zip"
SUBSIDY_WORKBOOK = "补贴申报表.xlsx"
SUBSIDY_SHEET_SUMMARY = "申报汇总"
SUBSIDY_SHEET_TRAINEES = "学员完成情况"
SUBSIDY_SHEET_ATTENDANCE = "考勤台账{week}"
SUBSIDY_SHEET_QA = "教师答疑"
SUBSIDY_SHEET_HOMEWORK = "作业布置与批改"
SUBSIDY_SHEET_PHOTOS = "学习照片"
SUBSIDY_SHEET_PUBLICITY = "公示名单"
SUBSIDY_TITLE = "{name} 补贴申报（{stage}）"
SUBSIDY_SUMMARY_HEADER = ("项目", "内容")
SUBSIDY_SUMMARY_ITEMS = {
    "stage": "申报阶段", "institution": "培训机构", "bank": "开户银行", "account": "银行账号", "standard": "补贴标准（元/人）",
    "registered": "计入补贴的实名注册学员", "qualified": "合格学员", "removed": "已删除学员（R16）",
    "marked": "取消资格或不符合培训对象条件的学员（R15、R22）", "policy": "政策配置", "share": "预拨比例",
    "basis": "预拨基数", "ceiling": "预拨上限", "amount": "本次申报金额（元）", "formula": "计算", "publicity": "公示期",
    "source": "政策依据",
}
SUBSIDY_TRAINEE_HEADER = ("序号", "姓名", "身份证号", "身份类别", "已学课时", "应学课时", "完成比例", "是否合格", "计入补贴",
                          "签到次数", "签退次数", "交作业", "作业已批改", "提问", "提问已答", "学习照片")
SUBSIDY_COUNTS = {True: "是", False: "否"}
SUBSIDY_NOT_COUNTED = {"removed": "否（已删除：{reason}）", "marked": "否（{reason}）", "unqualified": "否（未达合格标准）"}
SUBSIDY_QA_HEADER = ("问题编号", "答疑场次", "提问学员", "提问时间", "问题", "回答", "回答教师", "回答时间")
SUBSIDY_HOMEWORK_HEADER = ("作业编号", "布置时间", "布置教师", "内容", "截止时间", "已交", "迟交", "已批改")
SUBSIDY_PHOTOS_HEADER = ("序号", "姓名", "身份证号", "日期", "文件", "审核状态")
SUBSIDY_PUBLICITY_HEADER = ("培训机构", "班级", "职业（工种）", "培训人数", "合格人数", "培训平台", "补贴金额（元）", "公示期")
SUBSIDY_PHOTO_STATUS = {"ok": "有效", "accepted": "审核通过"}
SUBSIDY_NOTE_PHOTOS = "照片按学员和日期存放在压缩包的 photos/ 文件夹：photos/<序号>-<姓名>/<日期>-<SHA-256前12位>.<扩展名>；只收计入的照片（R08）。"
SUBSIDY_NOTE_EXPORTED = "导出时间：{at:%Y-%m-%d %H:%M}；导出人：{actor}"
